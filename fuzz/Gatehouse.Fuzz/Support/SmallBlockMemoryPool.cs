using System.Buffers;

namespace Gatehouse.Fuzz.Support;

/// <summary>
/// A memory pool whose blocks are all <see cref="MaxBufferSize"/> bytes, so a <see cref="System.IO.Pipelines.Pipe"/>
/// built on it (with the same minimum segment size) hands readers sequences of many small segments. It counts
/// blocks out and back, so a test can assert the pipe returned every one (aspnetcore
/// <c>DiagnosticMemoryPoolFactory</c>).
/// </summary>
internal sealed class SmallBlockMemoryPool : MemoryPool<byte>
{
    private readonly int _blockSize;
    private int _outstanding;
    private int _rented;

    public SmallBlockMemoryPool(int blockSize)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(blockSize, 1);
        _blockSize = blockSize;
    }

    public override int MaxBufferSize => _blockSize;

    /// <summary>Blocks rented and not yet returned.</summary>
    public int Outstanding => Volatile.Read(ref _outstanding);

    /// <summary>Blocks rented in total.</summary>
    public int Rented => Volatile.Read(ref _rented);

    public override IMemoryOwner<byte> Rent(int minBufferSize = -1)
    {
        if (minBufferSize > _blockSize)
        {
            throw new ArgumentOutOfRangeException(nameof(minBufferSize), $"blocks are {_blockSize} bytes");
        }

        Interlocked.Increment(ref _outstanding);
        Interlocked.Increment(ref _rented);
        return new Block(this, new byte[_blockSize]);
    }

    protected override void Dispose(bool disposing)
    {
    }

    private sealed class Block(SmallBlockMemoryPool pool, byte[] array) : IMemoryOwner<byte>
    {
        private SmallBlockMemoryPool? _pool = pool;

        public Memory<byte> Memory => _pool is null ? throw new ObjectDisposedException(nameof(Block)) : array;

        public void Dispose()
        {
            var pool = Interlocked.Exchange(ref _pool, null);
            if (pool is null)
            {
                throw new InvalidOperationException("a pool block was returned twice");
            }

            Interlocked.Decrement(ref pool._outstanding);
        }
    }
}
