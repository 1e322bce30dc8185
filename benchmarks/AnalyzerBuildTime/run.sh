#!/usr/bin/env bash
# Build-time cost of EpollGen's analyzers on a 200-file project that uses EpollGen heavily.
#
# Packs the runtime (generator + analyzers inside), generates a consumer of 200 files (each with two
# [Flags] enums, a flag map, a native struct, epoll P/Invoke declarations and code using the
# generated members), then times full recompiles (`dotnet build --no-incremental`, build server
# warm) alternating with and without the two analyzer assemblies (the generator runs in both), and
# prints the medians and their ratio. One `-p:ReportAnalyzer=true` build adds the compiler's own
# per-analyzer timing. Usage: benchmarks/AnalyzerBuildTime/run.sh [runs-per-side, default 5]
set -euo pipefail

runs="${1:-5}"
repo="$(cd "$(dirname "$0")/../.." && pwd)"
work="$(mktemp -d /tmp/epollgen-buildtime.XXXXXX)"
trap 'rm -rf "$work"' EXIT
export NUGET_PACKAGES="$work/packages" DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

dotnet build "$repo/src/Runtime/EpollGen.Runtime.csproj" -c Release -nologo -v:quiet >/dev/null
dotnet pack "$repo/src/Runtime/EpollGen.Runtime.csproj" -c Release --no-build -o "$work/feed" -nologo -v:quiet >/dev/null
version="$(basename "$work"/feed/EpollGen.*.nupkg .nupkg)"; version="${version#EpollGen.}"

proj="$work/consumer"
mkdir -p "$proj/Gen"
echo '<Project />' > "$proj/Directory.Build.props"
echo '<Project />' > "$proj/Directory.Packages.props"
cat > "$proj/nuget.config" <<XML
<?xml version="1.0" encoding="utf-8"?>
<configuration>
  <packageSources><clear /><add key="fresh" value="$work/feed" /></packageSources>
</configuration>
XML
cat > "$proj/Directory.Build.targets" <<'XML'
<Project>
  <!-- -p:EpollGenAnalyzers=false keeps the generator and drops the analyzers: the baseline. -->
  <Target Name="DropEpollGenAnalyzers" BeforeTargets="CoreCompile" Condition="'$(EpollGenAnalyzers)' == 'false'">
    <ItemGroup>
      <Analyzer Remove="@(Analyzer)" Condition="'%(Filename)' == 'EpollGen.Analyzers' or '%(Filename)' == 'EpollGen.Analyzers.CodeFixes'" />
    </ItemGroup>
  </Target>
</Project>
XML
cat > "$proj/Consumer.csproj" <<XML
<Project Sdk="Microsoft.NET.Sdk">
  <PropertyGroup>
    <TargetFramework>net10.0</TargetFramework>
    <AllowUnsafeBlocks>true</AllowUnsafeBlocks>
    <Nullable>enable</Nullable>
    <ImplicitUsings>disable</ImplicitUsings>
  </PropertyGroup>
  <ItemGroup><PackageReference Include="EpollGen" Version="[$version]" /></ItemGroup>
</Project>
XML
for i in $(seq -w 1 200); do
  cat > "$proj/Gen/File$i.cs" <<CS
using System;
using System.Runtime.InteropServices;
using EpollGen;
using EpollGen.Interop;

namespace Consumer.N$i;

[Flags] public enum Want$i : uint { Read = 1, Write = 2, Pri = 4, Hup = 8, Err = 16, Edge = 0x80000000, Once = 0x40000000 }
[Flags] public enum Got$i : ushort { In = 0x10, Out = 0x20, Urgent = 0x40, Closed = 0x80, Failed = 0x100 }

[FlagMap(typeof(Want$i), typeof(Got$i), AlwaysReported = Want$i.Hup | Want$i.Err)]
[FlagPair(Want$i.Read, Got$i.In)]
[FlagPair(Want$i.Write, Got$i.Out)]
[FlagPair(Want$i.Pri, Got$i.Urgent)]
[FlagPair(Want$i.Hup, Got$i.Closed)]
[FlagPair(Want$i.Err, Got$i.Failed)]
[FlagMode(Want$i.Edge)]
[FlagUnsupported(Want$i.Once, "one-shot is not offered here")]
public static partial class Map$i;

[NativeStruct("record_$i", Size = 32)]
[NativeField("kind", "uint16_t")]
[NativeField("flags", "uint16_t")]
[NativeField("len", "uint32_t")]
[NativeField("id", "uint64_t")]
[NativeField("user", "void *")]
[NativeField("fd", "int", Overlays = "user")]
[NativeField("tail", "uint8_t[8]")]
public partial struct Record$i;

public static unsafe class Native$i
{
    [DllImport("libc", SetLastError = true)] public static extern int epoll_wait(int epfd, void* events, int maxevents, int timeout);
    [DllImport("libc", SetLastError = true)] public static extern int epoll_ctl(int epfd, int op, int fd, void* ev);
    [DllImport("libc", SetLastError = true)] public static extern nint read(int fd, Record$i* buffer, nint count);
}

public static class Use$i
{
    public static string Describe(Want$i wanted)
    {
        Got$i got = Map$i.ToTarget(wanted);
        return Map$i.Format(wanted) + " -> " + Map$i.Format(got) + " (" + Record$i.Size + " bytes, epoll_event " + EpollEvent.NativeSize + ")";
    }

    public static int Count(ReadOnlySpan<Want$i> masks)
    {
        int n = 0;
        foreach (Want$i m in masks)
            n += (Map$i.ToTarget(m) & Got$i.In) != 0 ? 1 : 0;
        return n;
    }
}
CS
done

cd "$proj"
dotnet build -c Release -nologo -v:quiet >/dev/null   # restore, warm the build server
build() { # $1 = true|false; prints seconds
  local t0 t1
  t0=$(date +%s.%N)
  dotnet build -c Release --no-restore --no-incremental -nologo -v:quiet -p:EpollGenAnalyzers="$1" >/dev/null
  t1=$(date +%s.%N)
  echo "$t1 - $t0" | bc
}
with=(); without=()
for r in $(seq 1 "$runs"); do
  without+=("$(build false)")
  with+=("$(build true)")
  echo "run $r: without ${without[-1]} s, with ${with[-1]} s"
done
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
mw=$(median "${with[@]}"); mo=$(median "${without[@]}")
echo "median without analyzers: $mo s"
echo "median with analyzers:    $mw s"
echo "ratio with/without:       $(echo "scale=4; $mw / $mo" | bc)"

echo "compiler's analyzer timing (one build, -p:ReportAnalyzer=true):"
dotnet build -c Release --no-restore --no-incremental -nologo -v:d -p:ReportAnalyzer=true 2>&1 \
  | grep -E "Total analyzer execution time|Total generator execution time|EpollGen\.(Analyzers|Generators)[^ ]* *\(|[0-9.]+ +[0-9]+ +EpollGen\." | sed 's/^ *//' | sort -u | head -20
