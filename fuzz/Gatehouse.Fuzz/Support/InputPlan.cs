namespace Gatehouse.Fuzz.Support;

/// <summary>
/// The first byte of a chunked target's input says how the rest is delivered, so the fuzzer explores
/// segmentation as well as content. High nibble: the buffer block size (how the bytes are split into
/// <see cref="System.Buffers.ReadOnlySequence{T}"/> segments); low nibble: the largest write (how they are
/// split into reads). Chunk sizes come from a small PRNG seeded by the byte and the length, so an input
/// always replays the same way.
/// </summary>
internal readonly struct InputPlan
{
    private static readonly int[] BlockSizes = [1, 2, 3, 4, 5, 7, 8, 13, 16, 31, 64, 100, 256, 1000, 4096, 0];
    private static readonly int[] MaxChunks = [0, 1, 2, 3, 4, 5, 6, 8, 11, 16, 32, 64, 257, 1024, 4096, 65536];

    private readonly byte _plan;

    public InputPlan(byte plan) => _plan = plan;

    /// <summary>Bytes per buffer segment; 0 means the pipe's default (4 KiB pooled arrays).</summary>
    public int BlockSize => BlockSizes[_plan >> 4];

    /// <summary>Splits the first byte off <paramref name="input"/>; an empty input gets plan 0 (one chunk, default blocks).</summary>
    public static InputPlan Read(ReadOnlySpan<byte> input, out ReadOnlySpan<byte> rest)
    {
        if (input.IsEmpty)
        {
            rest = input;
            return default;
        }

        rest = input[1..];
        return new InputPlan(input[0]);
    }

    /// <summary>The sizes of successive writes covering <paramref name="length"/> bytes (never zero-sized).</summary>
    public int[] ChunkSizes(int length)
    {
        var max = MaxChunks[_plan & 0xF];
        if (length == 0)
        {
            return [];
        }

        if (max == 0)
        {
            return [length];
        }

        var sizes = new List<int>();
        var state = (uint)(_plan * 0x9E3779B1u) ^ (uint)length ^ 0xA5A5A5A5u;
        var left = length;
        while (left > 0)
        {
            // xorshift32: cheap, deterministic and good enough to vary chunk sizes.
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            var size = (int)(state % (uint)max) + 1;
            size = Math.Min(size, left);
            sizes.Add(size);
            left -= size;
        }

        return [.. sizes];
    }

    public override string ToString() => $"plan 0x{_plan:X2} (blocks {BlockSize}, writes <= {MaxChunks[_plan & 0xF]})";
}
