using System.Buffers;
using System.Buffers.Binary;
using System.Text;
using Gatehouse.Protocols.Postgres;
using Gatehouse.Proxy.Core.Framing;
using static Gatehouse.Fuzz.Support.PgMessages;

namespace Gatehouse.Tests.Framing;

public sealed class PgStartupPacketTests
{
    private static readonly byte[] StartupPacket = Startup(("user", "alice"), ("database", "app"), ("application_name", "psql"));

    [Theory]
    [MemberData(nameof(SequenceFactory.Names), MemberType = typeof(SequenceFactory))]
    public void Startup_is_Incomplete_on_every_prefix_and_Complete_on_the_whole_packet(string layout)
    {
        var factory = SequenceFactory.Named(layout);
        for (var n = 0; n < StartupPacket.Length; n++)
        {
            var status = PgStartupPacket.TryRead(factory.Create(StartupPacket[..n]), out var packet, out var error);
            Assert.True(status == FrameStatus.Incomplete, $"{n} bytes: {status} {error}");
            Assert.Null(packet);
            Assert.Null(error);
        }

        var complete = PgStartupPacket.TryRead(factory.Create(StartupPacket), out var whole, out var noError);
        Assert.Equal(FrameStatus.Complete, complete);
        Assert.Null(noError);
        Assert.Equal(StartupKind.Startup, whole!.Kind);
        Assert.Equal((3, 0), (whole.MajorVersion, whole.MinorVersion));
        Assert.Equal(StartupPacket.Length, whole.Length);
        Assert.Equal(
            [new("user", "alice"), new("database", "app"), new("application_name", "psql")],
            whole.Parameters);
        Assert.Equal("alice", whole.Get("user"));
        Assert.Null(whole.Get("options"));
    }

    [Theory]
    [MemberData(nameof(SequenceFactory.Names), MemberType = typeof(SequenceFactory))]
    public void Startup_followed_by_more_bytes_reports_only_its_own_length(string layout)
    {
        var stream = Concat(StartupPacket, Query("select 1"));
        Assert.Equal(FrameStatus.Complete, PgStartupPacket.TryRead(SequenceFactory.Named(layout).Create(stream), out var packet, out _));
        Assert.Equal(StartupPacket.Length, packet!.Length);
        Assert.Equal(3, packet.Parameters.Count);
    }

    [Fact]
    public void Startup_with_no_parameters_and_a_newer_minor_version_is_Complete()
    {
        var packet = Startup((3 << 16) | 2);
        Assert.Equal(FrameStatus.Complete, PgStartupPacket.TryRead(new ReadOnlySequence<byte>(packet), out var p, out _));
        Assert.Equal((3, 2, 9), (p!.MajorVersion, p.MinorVersion, p.Length));
        Assert.Empty(p.Parameters);
    }

    [Fact]
    public void Startup_parameter_values_are_utf8()
    {
        var packet = Startup(("user", "zoë"), ("application_name", "数据库"));
        Assert.Equal(FrameStatus.Complete, PgStartupPacket.TryRead(SequenceFactory.OneBytePerSegment.Create(packet), out var p, out _));
        Assert.Equal("zoë", p!.Get("user"));
        Assert.Equal("数据库", p.Get("application_name"));
    }

    [Theory]
    [MemberData(nameof(SequenceFactory.Names), MemberType = typeof(SequenceFactory))]
    public void SslRequest_and_GssEncRequest_are_8_bytes(string layout)
    {
        var factory = SequenceFactory.Named(layout);
        for (var n = 0; n < 8; n++)
        {
            Assert.Equal(FrameStatus.Incomplete, PgStartupPacket.TryRead(factory.Create(SslRequest()[..n]), out _, out _));
        }

        Assert.Equal(FrameStatus.Complete, PgStartupPacket.TryRead(factory.Create(SslRequest()), out var ssl, out _));
        Assert.Equal((StartupKind.SslRequest, 8), (ssl!.Kind, ssl.Length));
        Assert.Equal(FrameStatus.Complete, PgStartupPacket.TryRead(factory.Create(Concat(GssEncRequest(), StartupPacket)), out var gss, out _));
        Assert.Equal((StartupKind.GssEncRequest, 8), (gss!.Kind, gss.Length));
    }

    [Theory]
    [InlineData(SslRequestCode, 12)]
    [InlineData(GssEncRequestCode, 9)]
    public void Encryption_request_with_a_body_is_Invalid(int code, int length)
    {
        var packet = new byte[length];
        BinaryPrimitives.WriteInt32BigEndian(packet, length);
        BinaryPrimitives.WriteInt32BigEndian(packet.AsSpan(4), code);
        Assert.Equal(FrameStatus.Invalid, PgStartupPacket.TryRead(new ReadOnlySequence<byte>(packet), out var p, out var error));
        Assert.Null(p);
        Assert.Equal("invalid length of an encryption request", error);
    }

    [Theory]
    [MemberData(nameof(SequenceFactory.Names), MemberType = typeof(SequenceFactory))]
    public void CancelRequest_carries_process_id_and_secret(string layout)
    {
        var factory = SequenceFactory.Named(layout);
        var cancel = CancelRequest(4242, unchecked((int)0xDEADBEEF));
        for (var n = 0; n < cancel.Length; n++)
        {
            Assert.Equal(FrameStatus.Incomplete, PgStartupPacket.TryRead(factory.Create(cancel[..n]), out _, out _));
        }

        Assert.Equal(FrameStatus.Complete, PgStartupPacket.TryRead(factory.Create(cancel), out var p, out _));
        Assert.Equal((StartupKind.CancelRequest, 16, 4242, unchecked((int)0xDEADBEEF)), (p!.Kind, p.Length, p.CancelProcessId, p.CancelSecret));
    }

    [Fact]
    public void CancelRequest_with_a_longer_key_is_accepted_but_matches_no_secret()
    {
        // Protocol 3.2 keys are up to 256 bytes; the gateway only mints 4-byte ones.
        var packet = Untyped(new Body().Int32(CancelRequestCode).Int32(7).Raw(new byte[32]));
        Assert.Equal(FrameStatus.Complete, PgStartupPacket.TryRead(new ReadOnlySequence<byte>(packet), out var p, out _));
        Assert.Equal((StartupKind.CancelRequest, 44, 7, 0), (p!.Kind, p.Length, p.CancelProcessId, p.CancelSecret));
    }

    [Theory]
    [InlineData(12)]
    [InlineData(15)]
    [InlineData(8 + 4 + 257)]
    public void CancelRequest_of_a_wrong_length_is_Invalid_before_its_body_arrives(int length)
    {
        var head = new byte[8];
        BinaryPrimitives.WriteInt32BigEndian(head, length);
        BinaryPrimitives.WriteInt32BigEndian(head.AsSpan(4), CancelRequestCode);
        Assert.Equal(FrameStatus.Invalid, PgStartupPacket.TryRead(new ReadOnlySequence<byte>(head), out _, out var error));
        Assert.Equal("invalid length of a cancel request", error);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(7)]
    [InlineData(-1)]
    [InlineData(int.MinValue)]
    [InlineData(10001)]
    [InlineData(int.MaxValue)]
    public void Length_out_of_range_is_Invalid_from_the_first_8_bytes(int length)
    {
        var head = new byte[8];
        BinaryPrimitives.WriteInt32BigEndian(head, length);
        BinaryPrimitives.WriteInt32BigEndian(head.AsSpan(4), Protocol30);
        foreach (var factory in SequenceFactory.All)
        {
            Assert.Equal(FrameStatus.Invalid, PgStartupPacket.TryRead(factory.Create(head), out var p, out var error));
            Assert.Null(p);
            Assert.Equal($"invalid startup packet length {length}", error);
        }
    }

    [Fact]
    public void Length_of_exactly_10000_waits_for_the_body()
    {
        var head = new byte[8];
        BinaryPrimitives.WriteInt32BigEndian(head, 10000);
        BinaryPrimitives.WriteInt32BigEndian(head.AsSpan(4), Protocol30);
        Assert.Equal(FrameStatus.Incomplete, PgStartupPacket.TryRead(new ReadOnlySequence<byte>(head), out _, out _));
    }

    [Theory]
    [InlineData(2 << 16, "unsupported frontend protocol 2.0: the gateway speaks 3.0")]
    [InlineData((4 << 16) | 1, "unsupported frontend protocol 4.1: the gateway speaks 3.0")]
    [InlineData((1234 << 16) | 5682, "unsupported frontend protocol 1234.5682: the gateway speaks 3.0")]
    public void Other_protocol_versions_are_Invalid(int code, string message)
    {
        var packet = Startup(code, ("user", "u"));
        Assert.Equal(FrameStatus.Invalid, PgStartupPacket.TryRead(new ReadOnlySequence<byte>(packet), out _, out var error));
        Assert.Equal(message, error);
    }

    [Theory]
    [InlineData("user\0alice", "malformed startup packet: value of \"user\" not terminated")]
    [InlineData("user", "malformed startup packet: parameter name not terminated")]
    [InlineData("user\0alice\0", "malformed startup packet: parameter name not terminated")] // no final terminator
    [InlineData("user\0alice\0\0x", "malformed startup packet: bytes after the terminator")]
    [InlineData("\0\0", "malformed startup packet: bytes after the terminator")]
    [InlineData("", "malformed startup packet: parameter name not terminated")]
    public void Malformed_parameters_are_Invalid(string body, string message)
    {
        var packet = Untyped(new Body().Int32(Protocol30).Raw(Encoding.UTF8.GetBytes(body)));
        foreach (var factory in SequenceFactory.All)
        {
            Assert.Equal(FrameStatus.Invalid, PgStartupPacket.TryRead(factory.Create(packet), out var p, out var error));
            Assert.Null(p);
            Assert.Equal(message, error);
        }
    }

    [Fact]
    public void Invalid_utf8_in_a_parameter_is_Invalid()
    {
        var packet = Untyped(new Body().Int32(Protocol30).Raw([(byte)'u', 0xC3, 0x28, 0, (byte)'v', 0, 0]));
        Assert.Equal(FrameStatus.Invalid, PgStartupPacket.TryRead(new ReadOnlySequence<byte>(packet), out var p, out _));
        Assert.Null(p);
    }
}
