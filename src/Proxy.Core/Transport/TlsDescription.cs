using System.Net.Security;
using System.Security.Authentication;

namespace Gatehouse.Proxy.Core.Transport;

/// <summary>What a TLS handshake negotiated, as session records and logs state it: "TLSv1.3 TLS_AES_256_GCM_SHA384".</summary>
public static class TlsDescription
{
    public static string Of(SslStream ssl)
    {
#pragma warning disable SYSLIB0039 // naming old protocols is the point: a record must say if one was negotiated
        var protocol = ssl.SslProtocol switch
        {
            SslProtocols.Tls13 => "TLSv1.3",
            SslProtocols.Tls12 => "TLSv1.2",
            SslProtocols.Tls11 => "TLSv1.1",
            SslProtocols.Tls => "TLSv1.0",
            var other => other.ToString(),
        };
#pragma warning restore SYSLIB0039
        return $"{protocol} {ssl.NegotiatedCipherSuite}";
    }
}
