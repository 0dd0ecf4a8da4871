using System.Buffers;
using FsCheck;
using FsCheck.Fluent;
using Gatehouse.Fuzz.Support;
using Gatehouse.Protocols.Postgres;
using Gatehouse.Proxy.Core.Framing;
using static Gatehouse.Fuzz.Support.PgMessages;

namespace Gatehouse.Tests.Framing;

public sealed class PgFrameDecoderTests
{
    private const int StatementCap = 4096;

    public static TheoryData<string, string> FrontendMessages => new()
    {
        { "Query", Convert.ToHexString(Query("select 1")) },
        { "Parse", Convert.ToHexString(Parse("s1", "select $1::int", 23)) },
        { "Bind", Convert.ToHexString(Bind("", "s1", "42", null)) },
        { "Describe", Convert.ToHexString(Describe('S', "s1")) },
        { "Execute", Convert.ToHexString(Execute("", 0)) },
        { "Close", Convert.ToHexString(Close('P', "")) },
        { "Sync", Convert.ToHexString(Sync()) },
        { "Flush", Convert.ToHexString(Flush()) },
        { "Terminate", Convert.ToHexString(Terminate()) },
        { "CopyData", Convert.ToHexString(CopyData("1\tone\n"u8)) },
        { "CopyDone", Convert.ToHexString(CopyDone()) },
    };

    public static TheoryData<string, string> BackendMessages => new()
    {
        { "RowDescription", Convert.ToHexString(RowDescription(25, "id", "name")) },
        { "DataRow", Convert.ToHexString(DataRow("1", null, "three")) },
        { "CommandComplete", Convert.ToHexString(CommandComplete("SELECT 3")) },
        { "ReadyForQuery", Convert.ToHexString(ReadyForQuery()) },
        { "ParameterStatus", Convert.ToHexString(ParameterStatus("client_encoding", "UTF8")) },
        { "ErrorResponse", Convert.ToHexString(ErrorResponse("42601", "syntax error")) },
        { "ParseComplete", Convert.ToHexString(ParseComplete()) },
        { "AuthenticationOk", Convert.ToHexString(AuthenticationOk()) },
    };

    [Theory]
    [MemberData(nameof(FrontendMessages))]
    public void Frontend_header_is_Incomplete_on_every_prefix_shorter_than_5_then_Complete_on_every_longer_one(string name, string hex)
        => EveryPrefix(PgFrameDecoder.ForFrontend(StatementCap), Convert.FromHexString(hex), name);

    [Theory]
    [MemberData(nameof(BackendMessages))]
    public void Backend_header_is_Incomplete_on_every_prefix_shorter_than_5_then_Complete_on_every_longer_one(string name, string hex)
        => EveryPrefix(PgFrameDecoder.Backend, Convert.FromHexString(hex), name);

    private static void EveryPrefix(PgFrameDecoder decoder, byte[] message, string name)
    {
        foreach (var factory in SequenceFactory.All)
        {
            for (var n = 0; n <= message.Length; n++)
            {
                var prefix = factory.Create(message[..n]);
                var status = decoder.TryReadHeader(prefix, out var header, out var error);
                if (n < 5)
                {
                    Assert.Equal(FrameStatus.Incomplete, status);
                    Assert.Equal(default, header);
                    Assert.Null(error);
                }
                else
                {
                    // The header alone decides: the decoder never waits for, or looks at, the body.
                    Assert.True(status == FrameStatus.Complete, $"{name} on {factory}, {n} of {message.Length} bytes: {status} {error}");
                    Assert.Equal(new FrameHeader(message[0], 5, message.Length), header);
                    Assert.Null(error);
                }
            }
        }
    }

    [Theory]
    [MemberData(nameof(SequenceFactory.Names), MemberType = typeof(SequenceFactory))]
    public void Decodes_only_the_first_message_of_a_stream(string layout)
    {
        var stream = Concat(Query("select 1"), Sync(), Terminate());
        var status = PgFrameDecoder.ForFrontend(StatementCap).TryReadHeader(SequenceFactory.Named(layout).Create(stream), out var header, out _);
        Assert.Equal(FrameStatus.Complete, status);
        Assert.Equal(new FrameHeader((byte)'Q', 5, Query("select 1").Length), header);
        Assert.Equal(Query("select 1").Length - 5, header.PayloadLength);
    }

    [Theory]
    [InlineData('Q', 3)]
    [InlineData('Q', 0)]
    [InlineData('Q', -1)]
    [InlineData('Q', int.MinValue)]
    [InlineData('Q', int.MaxValue)]
    [InlineData('Q', StatementCap + 1)]
    [InlineData('P', StatementCap + 1)]
    [InlineData('B', StatementCap + 1)]
    [InlineData('F', StatementCap + 1)]
    [InlineData('D', 65537)]
    [InlineData('E', 65537)]
    [InlineData('C', 65537)]
    [InlineData('f', 65537)]
    [InlineData('d', PgFrameDecoder.LargeMessageLimit + 1)]
    [InlineData('S', 5)] // Sync has no body: exactly 4
    [InlineData('S', 3)]
    [InlineData('H', 5)]
    [InlineData('X', 8)]
    [InlineData('c', 5)]
    public void Frontend_length_out_of_range_is_Invalid_from_the_header_alone(char type, int length)
    {
        var decoder = PgFrameDecoder.ForFrontend(StatementCap);
        foreach (var factory in SequenceFactory.All)
        {
            var status = decoder.TryReadHeader(factory.Create(WithLength(type, length)), out var header, out var error);
            Assert.Equal(FrameStatus.Invalid, status);
            Assert.Equal(default, header);
            Assert.Equal($"invalid length {length} for message type '{type}'", error);
        }
    }

    [Theory]
    [InlineData('Q', 4)]
    [InlineData('Q', StatementCap)]
    [InlineData('D', 65536)]
    [InlineData('d', PgFrameDecoder.LargeMessageLimit)]
    [InlineData('S', 4)]
    [InlineData('X', 4)]
    public void Frontend_length_at_the_bounds_is_Complete(char type, int length)
    {
        var status = PgFrameDecoder.ForFrontend(StatementCap).TryReadHeader(new ReadOnlySequence<byte>(WithLength(type, length)), out var header, out _);
        Assert.Equal(FrameStatus.Complete, status);
        Assert.Equal(1L + length, header.TotalLength);
    }

    [Theory]
    [InlineData('D', 3)]
    [InlineData('Z', -5)]
    [InlineData('D', PgFrameDecoder.LargeMessageLimit + 1)]
    [InlineData('d', int.MaxValue)]
    public void Backend_length_out_of_range_is_Invalid(char type, int length)
    {
        var status = PgFrameDecoder.Backend.TryReadHeader(new ReadOnlySequence<byte>(WithLength(type, length)), out _, out var error);
        Assert.Equal(FrameStatus.Invalid, status);
        Assert.Equal($"invalid length {length} for message type '{type}'", error);
    }

    [Fact]
    public void Backend_allows_the_full_large_message_limit_for_DataRow()
    {
        var status = PgFrameDecoder.Backend.TryReadHeader(new ReadOnlySequence<byte>(WithLength('D', PgFrameDecoder.LargeMessageLimit)), out var header, out _);
        Assert.Equal(FrameStatus.Complete, status);
        Assert.Equal(1L + PgFrameDecoder.LargeMessageLimit, header.TotalLength);
    }

    [Theory]
    [InlineData((byte)'p')] // PasswordMessage: login only, never after it
    [InlineData((byte)'R')] // a backend type from the client
    [InlineData((byte)'Z')]
    [InlineData((byte)0)]
    [InlineData((byte)0xFF)]
    [InlineData((byte)'q')]
    public void Frontend_unknown_type_is_Invalid(byte type)
    {
        var message = Typed((char)type, "x\0"u8);
        var status = PgFrameDecoder.ForFrontend(StatementCap).TryReadHeader(SequenceFactory.OneBytePerSegment.Create(message), out _, out var error);
        Assert.Equal(FrameStatus.Invalid, status);
        Assert.Equal($"unexpected message type 0x{type:X2}", error);
    }

    [Theory]
    [InlineData((byte)'Q')] // frontend-only types from the server
    [InlineData((byte)'P')]
    [InlineData((byte)'X')]
    [InlineData((byte)0)]
    public void Backend_unknown_type_is_Invalid(byte type)
    {
        var status = PgFrameDecoder.Backend.TryReadHeader(new ReadOnlySequence<byte>(Typed((char)type, [])), out _, out var error);
        Assert.Equal(FrameStatus.Invalid, status);
        Assert.Equal($"unexpected message type 0x{type:X2}", error);
    }

    [Fact]
    public void Four_bytes_are_Incomplete_whatever_the_type_byte()
    {
        // 4 bytes: not a header yet, whatever the type byte.
        Assert.Equal(FrameStatus.Incomplete, PgFrameDecoder.ForFrontend(StatementCap).TryReadHeader(new ReadOnlySequence<byte>([0xFF, 0, 0, 0]), out _, out _));
    }

    [Fact]
    public void Every_type_byte_and_length_gets_the_same_answer_on_every_layout()
    {
        // Property: for any header (type byte, length near every bound) and a few more bytes, all layouts agree with the contiguous array, and a Complete header is
        // exactly what the first five bytes say.
        var decoders = new[] { PgFrameDecoder.ForFrontend(StatementCap), PgFrameDecoder.Backend };
        var type = Gen.OneOf(Gen.Elements("QPBFdfDCEcHSXpRZTK12"u8.ToArray()), ArbMap.Default.GeneratorFor<byte>());
        var length = Gen.OneOf(Gen.Choose(-8, 16), Gen.Choose(65530, 65540), Gen.Choose(StatementCap - 2, StatementCap + 2),
            Gen.Elements(int.MinValue, int.MaxValue, PgFrameDecoder.LargeMessageLimit, PgFrameDecoder.LargeMessageLimit + 1), ArbMap.Default.GeneratorFor<int>());
        var tail = Gen.Choose(0, 7).SelectMany(n => Gen.ArrayOf(ArbMap.Default.GeneratorFor<byte>(), n));
        var gen = FrameRelayProperties.Zip(type, length, tail).Select(t => Concat(WithLength((char)t.Item1, t.Item2), t.Item3));
        Prop.ForAll(gen.ToArbitrary(), bytes =>
        {
            foreach (var decoder in decoders)
            {
                var expected = decoder.TryReadHeader(new ReadOnlySequence<byte>(bytes), out var expectedHeader, out var expectedError);
                if (expected == FrameStatus.Complete)
                {
                    var length = System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(1));
                    Assert.Equal(new FrameHeader(bytes[0], 5, 1L + length), expectedHeader);
                    Assert.InRange(length, 4, PgFrameDecoder.LargeMessageLimit);
                }

                foreach (var factory in SequenceFactory.All)
                {
                    var actual = decoder.TryReadHeader(factory.Create(bytes), out var header, out var error);
                    Assert.Equal((expected, expectedHeader, expectedError), (actual, header, error));
                }
            }
        }).QuickCheckThrowOnFailure();
    }
}
