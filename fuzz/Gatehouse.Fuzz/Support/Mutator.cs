using System.Buffers.Binary;

namespace Gatehouse.Fuzz.Support;

/// <summary>
/// Derives new inputs from a corpus with a seeded <see cref="Random"/>, so a run replays exactly. Stacks 1-4
/// of: bit flips, random and boundary bytes, byte inserts and deletes, block duplication, splicing with
/// another corpus entry, and interesting big-endian integers (lengths 0, 3, 4, 5, 0x7FFFFFFF, -1 ...)
/// written at 4-byte aligned offsets and, since a Postgres length follows a type byte, at any offset.
/// </summary>
internal sealed class Mutator
{
    private static readonly int[] InterestingInt32 =
    [
        0, 1, 3, 4, 5, 7, 8, 9, 16, 127, 128, 255, 256, 1023, 1024, 1025, 4095, 4096, 4097, 9999, 10000, 10001,
        65535, 65536, 0x3FFFFFFF, 0x40000000, int.MaxValue, -1, int.MinValue, 80877102, 80877103, 80877104, 196608,
    ];

    private static readonly byte[] InterestingBytes = [0, 1, 0x7F, 0x80, 0xFF, (byte)'%', (byte)',', (byte)'=', (byte)'Q', (byte)'S', (byte)'D', (byte)'Z'];

    private readonly Random _random;
    private readonly IReadOnlyList<byte[]> _corpus;
    private readonly int _maxLength;

    public Mutator(int seed, IReadOnlyList<byte[]> corpus, int maxLength = 1 << 16)
    {
        if (corpus.Count == 0)
        {
            throw new ArgumentException("the corpus is empty", nameof(corpus));
        }

        _random = new Random(seed);
        _corpus = corpus;
        _maxLength = maxLength;
    }

    /// <summary>A new input: a corpus entry with 1-4 mutations stacked on it.</summary>
    public byte[] Next()
    {
        var data = new List<byte>(_corpus[_random.Next(_corpus.Count)]);
        var count = 1 + _random.Next(4);
        for (var i = 0; i < count; i++)
        {
            Mutate(data);
        }

        if (data.Count > _maxLength)
        {
            data.RemoveRange(_maxLength, data.Count - _maxLength);
        }

        return [.. data];
    }

    private void Mutate(List<byte> data)
    {
        switch (_random.Next(10))
        {
            case 0 when data.Count > 0:
                data[_random.Next(data.Count)] ^= (byte)(1 << _random.Next(8));
                break;
            case 1 when data.Count > 0:
                data[_random.Next(data.Count)] = (byte)_random.Next(256);
                break;
            case 2 when data.Count > 0:
                data[_random.Next(data.Count)] = InterestingBytes[_random.Next(InterestingBytes.Length)];
                break;
            case 3:
            {
                var at = _random.Next(data.Count + 1);
                var n = 1 + _random.Next(8);
                for (var i = 0; i < n; i++)
                {
                    data.Insert(at, (byte)_random.Next(256));
                }

                break;
            }

            case 4 when data.Count > 0:
            {
                var at = _random.Next(data.Count);
                data.RemoveRange(at, Math.Min(data.Count - at, 1 + _random.Next(16)));
                break;
            }

            case 5 when data.Count > 0:
            {
                // Duplicate a block: repeats whole messages as often as it breaks them.
                var at = _random.Next(data.Count);
                var n = Math.Min(data.Count - at, 1 + _random.Next(64));
                data.InsertRange(_random.Next(data.Count + 1), data.GetRange(at, n));
                break;
            }

            case 6:
            {
                // Splice: this input's head with another entry's tail.
                var other = _corpus[_random.Next(_corpus.Count)];
                var keep = _random.Next(data.Count + 1);
                data.RemoveRange(keep, data.Count - keep);
                data.AddRange(other.AsSpan(_random.Next(other.Length + 1)).ToArray());
                break;
            }

            case 7 when data.Count >= 4:
                WriteInt32(data, _random.Next(data.Count / 4) * 4);
                break;
            case 8 when data.Count >= 4:
                WriteInt32(data, _random.Next(data.Count - 3));
                break;
            case 9 when data.Count >= 4:
            {
                // Nudge an existing big-endian integer by a little: off-by-one lengths.
                var at = _random.Next(data.Count - 3);
                var value = BinaryPrimitives.ReadInt32BigEndian([data[at], data[at + 1], data[at + 2], data[at + 3]]);
                Put(data, at, value + _random.Next(-4, 5));
                break;
            }

            default:
                data.Add((byte)_random.Next(256));
                break;
        }
    }

    private void WriteInt32(List<byte> data, int at) => Put(data, at, InterestingInt32[_random.Next(InterestingInt32.Length)]);

    private static void Put(List<byte> data, int at, int value)
    {
        Span<byte> bytes = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(bytes, value);
        for (var i = 0; i < 4; i++)
        {
            data[at + i] = bytes[i];
        }
    }
}
