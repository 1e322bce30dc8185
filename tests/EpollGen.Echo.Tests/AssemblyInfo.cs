using Xunit;

// Every test counts the process's fds: two at once would count each other's.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
