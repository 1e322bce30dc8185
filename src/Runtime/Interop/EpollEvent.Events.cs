namespace EpollGen.Interop;

// Hand-written beside the generated fields rather than generated: a property adds no storage, so the
// C layout, the generated code and its layout checks stay as they are.
public partial struct EpollEvent
{
    /// <summary><c>events</c> typed: the same four bytes, as <see cref="EpollEvents"/> bits.</summary>
    public EpollEvents Events
    {
        readonly get => (EpollEvents)events;
        set => events = (uint)value;
    }
}
