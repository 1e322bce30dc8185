namespace EpollGen.Events;

/// <summary>A message taken by <see cref="EventQueue.WaitAny"/>, with the queue it came from.</summary>
/// <param name="QueueIndex">The index, in the span of queues passed to <see cref="EventQueue.WaitAny"/>, of the queue the message came from.</param>
/// <param name="Message">The message, as <see cref="EventQueue.Wait(System.Span{CeqMessage}, System.TimeSpan)"/> would have returned it.</param>
public readonly record struct EventQueueMessage(int QueueIndex, CeqMessage Message);
