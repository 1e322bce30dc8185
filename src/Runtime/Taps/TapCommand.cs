namespace EpollGen.Taps;

/// <summary>What a <see cref="TapRequest"/> does, with Akaros's <c>FDTAP_CMD_*</c> values.</summary>
public enum TapCommand
{
    /// <summary>Start tapping the fd for the filter (<c>FDTAP_CMD_ADD</c>).</summary>
    Add = 1,

    /// <summary>Stop tapping (<c>FDTAP_CMD_REM</c>).</summary>
    Remove = 2,

    /// <summary>Change the filter of an existing tap (<c>FDTAP_CMD_MOD</c>; Akaros never implemented it).</summary>
    Modify = 3,
}
