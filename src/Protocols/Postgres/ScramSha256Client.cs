using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace Gatehouse.Protocols.Postgres;

/// <summary>
/// The client side of SCRAM-SHA-256 (RFC 5802, RFC 7677) as PostgreSQL speaks it (55.3.1), with
/// tls-server-end-point channel binding (RFC 5929) when the connection is TLS. The server's final
/// signature is verified, so a server that does not know the password cannot complete the login.
/// </summary>
internal sealed class ScramSha256Client
{
    public const string Mechanism = "SCRAM-SHA-256";
    public const string MechanismPlus = "SCRAM-SHA-256-PLUS";

    // RFC 7677 recommends at least 4096; a hostile server asking for millions would burn our CPU.
    private const int MinIterations = 4096;
    private const int MaxIterations = 1_000_000;

    private readonly string _password;
    private readonly string _gs2Header;
    private readonly byte[] _channelBinding;
    private readonly string _clientNonce;
    private string? _clientFirstBare;
    private byte[]? _expectedServerSignature;

    private ScramSha256Client(string password, string gs2Header, byte[] channelBinding)
    {
        _password = password;
        _gs2Header = gs2Header;
        _channelBinding = channelBinding;
        _clientNonce = Convert.ToBase64String(RandomNumberGenerator.GetBytes(18));
    }

    /// <summary>True once the server proved it knows the password.</summary>
    public bool Verified { get; private set; }

    /// <summary>The mechanism chosen, to name in SASLInitialResponse.</summary>
    public string ChosenMechanism { get; private init; } = Mechanism;

    /// <summary>
    /// Chooses the mechanism: with TLS, PLUS when the server offers it; when <paramref name="requireChannelBinding"/>
    /// and it does not, the login is refused rather than downgraded.
    /// </summary>
    public static ScramSha256Client Create(string password, IReadOnlyList<string> offered, X509Certificate2? serverCertificate, bool requireChannelBinding)
    {
        if (serverCertificate is not null && offered.Contains(MechanismPlus))
        {
            return new ScramSha256Client(password, "p=tls-server-end-point,,", ServerEndPointHash(serverCertificate)) { ChosenMechanism = MechanismPlus };
        }

        if (requireChannelBinding)
        {
            throw new PgProtocolException("the upstream did not offer SCRAM-SHA-256-PLUS and channel binding is required");
        }

        if (!offered.Contains(Mechanism))
        {
            throw new PgProtocolException("the upstream offered no SCRAM-SHA-256 mechanism");
        }

        // "y": we could bind but the server did not offer it (RFC 5802 §6), which a downgrading MITM cannot hide.
        return new ScramSha256Client(password, serverCertificate is null ? "n,," : "y,,", []);
    }

    public byte[] ClientFirst()
    {
        _clientFirstBare = "n=,r=" + _clientNonce;
        return Encoding.UTF8.GetBytes(_gs2Header + _clientFirstBare);
    }

    public byte[] ClientFinal(ReadOnlySpan<byte> serverFirstBytes)
    {
        var serverFirst = Encoding.UTF8.GetString(serverFirstBytes);
        string? nonce = null, salt = null, iterations = null;
        foreach (var part in serverFirst.Split(','))
        {
            if (part.StartsWith("r=", StringComparison.Ordinal)) nonce = part[2..];
            else if (part.StartsWith("s=", StringComparison.Ordinal)) salt = part[2..];
            else if (part.StartsWith("i=", StringComparison.Ordinal)) iterations = part[2..];
            else if (part.StartsWith("m=", StringComparison.Ordinal)) throw new PgProtocolException("SCRAM: unsupported mandatory extension");
        }

        if (nonce is null || salt is null || iterations is null || !nonce.StartsWith(_clientNonce, StringComparison.Ordinal) || nonce.Length == _clientNonce.Length)
        {
            throw new PgProtocolException("SCRAM: malformed server-first-message");
        }

        if (!int.TryParse(iterations, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var i) || i < MinIterations || i > MaxIterations)
        {
            throw new PgProtocolException("SCRAM: iteration count out of range");
        }

        byte[] saltBytes;
        try
        {
            saltBytes = Convert.FromBase64String(salt);
        }
        catch (FormatException)
        {
            throw new PgProtocolException("SCRAM: salt is not base64");
        }

        var cbind = new byte[Encoding.UTF8.GetByteCount(_gs2Header) + _channelBinding.Length];
        var headerLength = Encoding.UTF8.GetBytes(_gs2Header, cbind);
        _channelBinding.CopyTo(cbind.AsSpan(headerLength));
        var withoutProof = "c=" + Convert.ToBase64String(cbind) + ",r=" + nonce;
        var authMessage = Encoding.UTF8.GetBytes(_clientFirstBare + "," + serverFirst + "," + withoutProof);

        var salted = Rfc2898DeriveBytes.Pbkdf2(Encoding.UTF8.GetBytes(_password), saltBytes, i, HashAlgorithmName.SHA256, 32);
        var clientKey = HMACSHA256.HashData(salted, "Client Key"u8);
        var storedKey = SHA256.HashData(clientKey);
        var clientSignature = HMACSHA256.HashData(storedKey, authMessage);
        var proof = new byte[clientKey.Length];
        for (var k = 0; k < proof.Length; k++)
        {
            proof[k] = (byte)(clientKey[k] ^ clientSignature[k]);
        }

        var serverKey = HMACSHA256.HashData(salted, "Server Key"u8);
        _expectedServerSignature = HMACSHA256.HashData(serverKey, authMessage);
        CryptographicOperations.ZeroMemory(salted);
        return Encoding.UTF8.GetBytes(withoutProof + ",p=" + Convert.ToBase64String(proof));
    }

    /// <summary>Checks the server's signature; without this a fake server could accept any proof.</summary>
    public void VerifyServerFinal(ReadOnlySpan<byte> serverFinalBytes)
    {
        var serverFinal = Encoding.UTF8.GetString(serverFinalBytes);
        if (serverFinal.StartsWith("e=", StringComparison.Ordinal))
        {
            throw new PgProtocolException("SCRAM: the upstream reported " + serverFinal[2..]);
        }

        if (_expectedServerSignature is null || !serverFinal.StartsWith("v=", StringComparison.Ordinal))
        {
            throw new PgProtocolException("SCRAM: malformed server-final-message");
        }

        byte[] signature;
        try
        {
            signature = Convert.FromBase64String(serverFinal[2..].Split(',')[0]);
        }
        catch (FormatException)
        {
            throw new PgProtocolException("SCRAM: server signature is not base64");
        }

        if (!CryptographicOperations.FixedTimeEquals(signature, _expectedServerSignature))
        {
            throw new PgProtocolException("SCRAM: the upstream's signature is wrong: it does not know the password");
        }

        Verified = true;
    }

    /// <summary>RFC 5929 §4.1: hash of the certificate with its signature's hash; MD5 and SHA-1 become SHA-256.</summary>
    internal static byte[] ServerEndPointHash(X509Certificate2 certificate)
    {
        var raw = certificate.RawData;
        return certificate.SignatureAlgorithm.Value switch
        {
            "1.2.840.113549.1.1.12" or "1.2.840.10045.4.3.3" => SHA384.HashData(raw),
            "1.2.840.113549.1.1.13" or "1.2.840.10045.4.3.4" => SHA512.HashData(raw),
            _ => SHA256.HashData(raw),
        };
    }
}
