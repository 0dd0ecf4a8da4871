using System.Buffers;
using System.Text;
using Gatehouse.Proxy.Core.Masking;
using Gatehouse.Tests.Framing;
using Xunit;

namespace Gatehouse.Tests.Masking;

public class ContentDetectorTests
{
    [Theory]
    [InlineData("4111 1111 1111 1111", ContentKinds.Card)]
    [InlineData("card: 5555-5555-5555-4444.", ContentKinds.Card)]
    [InlineData("378282246310005", ContentKinds.Card)]
    [InlineData("6011111111111117", ContentKinds.Card)]
    [InlineData("paid with 4111111111111111 today", ContentKinds.Card)]
    [InlineData("paid with 4111 1111 1111 1111", ContentKinds.Card)]
    [InlineData("jane.doe+shop@example.co.uk", ContentKinds.Email)]
    [InlineData("SSN 123-45-6789", ContentKinds.UsSsn)]
    [InlineData("DE89 3704 0044 0532 0130 00", ContentKinds.Iban)]
    [InlineData("GB82WEST12345698765432", ContentKinds.Iban)]
    [InlineData("call +44 20 7946 0958", ContentKinds.Phone)]
    [InlineData("(415) 555-0123", ContentKinds.Phone)]
    [InlineData("AKIAIOSFODNN7EXAMPLE", ContentKinds.AwsKey)]
    [InlineData("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U", ContentKinds.Jwt)]
    [InlineData("-----BEGIN RSA PRIVATE KEY-----\nMIIE", ContentKinds.PrivateKey)]
    public void Finds_sensitive_content(string text, ContentKinds expected)
    {
        Assert.Equal(expected, ContentDetector.Detect(Encoding.UTF8.GetBytes(text), ContentKinds.All));
    }

    [Theory]
    [InlineData("4111111111111112")] // fails Luhn
    [InlineData("order 1234567890123")]
    [InlineData("0000 4111 1111 1111 1111")] // the tail of a longer grouped run is no card
    [InlineData("550e8400-e29b-41d4-a716-446655440000")]
    [InlineData("2024-01-15 12:34:56.789+00")]
    [InlineData("20240115123456")]
    [InlineData("1705322096000")]
    [InlineData("10.20.30.40")]
    [InlineData("version 1.2.3-beta")]
    [InlineData("user@localhost")]
    [InlineData("000-12-3456")]
    [InlineData("DE89 3704 0044 0532 0130 01")] // checksum broken
    [InlineData("Jane Doe, 12 Main Street, Springfield")]
    [InlineData("-----BEGIN CERTIFICATE-----")]
    public void Leaves_ordinary_values_alone(string text)
    {
        Assert.Equal(ContentKinds.None, ContentDetector.Detect(Encoding.UTF8.GetBytes(text), ContentKinds.All));
    }

    [Fact]
    public void Only_enabled_detectors_answer()
    {
        var card = "4111 1111 1111 1111"u8.ToArray();
        Assert.Equal(ContentKinds.None, ContentDetector.Detect(card, ContentKinds.Email));
    }

    [Theory]
    [InlineData("paid with 4111-1111-1111-1111 on 2024-01-15")]
    [InlineData("mail jane@example.com or DE89370400440532013000")]
    [InlineData("nothing to see here at all, just words")]
    public void Answer_does_not_depend_on_segmentation(string text)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        var expected = ContentDetector.Detect(bytes, ContentKinds.All);
        for (var split = 1; split < bytes.Length; split++)
        {
            var sequence = SequenceFactory.FromSegments(bytes, [split, bytes.Length - split]);
            Assert.Equal(expected, ContentDetector.Detect(sequence, ContentKinds.All));
        }
    }
}
