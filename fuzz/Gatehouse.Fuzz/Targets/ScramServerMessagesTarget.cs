using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Gatehouse.Fuzz.Support;
using Gatehouse.Protocols.Postgres;

namespace Gatehouse.Fuzz.Targets;

/// <summary>
/// <see cref="ScramSha256Client"/> fed hostile server messages. Input: a variant byte (low 2 bits: no TLS;
/// TLS without PLUS offered; TLS with PLUS; channel binding required but not offered), then the
/// server-first-message, a NUL, and the server-final-message. Since the client nonce is random, each '%'
/// in the server-first is replaced by it; a '%' in the server-final is replaced by the correct server
/// signature, which the target computes as a SCRAM server would (RFC 5802 §3). Only
/// <see cref="PgProtocolException"/> may escape the client; beyond that, every client-final's proof must
/// verify against that independent server computation, the correct signature must be accepted and any other
/// must be refused.
/// </summary>
internal sealed class ScramServerMessagesTarget : IFuzzTarget
{
    public const string Password = "pencil";
    private static readonly Lazy<X509Certificate2> Certificate = new(CreateCertificate);

    public static string Name => "scram-server-messages";

    /// <summary>
    /// A server-first may ask for up to ScramSha256Client's cap of 1,000,000 PBKDF2 iterations, which is
    /// seconds of CPU by design, not a hang.
    /// </summary>
    public static TimeSpan HangTimeout => TimeSpan.FromSeconds(30);

    public static void Run(ReadOnlySpan<byte> input)
    {
        var variant = input.IsEmpty ? 0 : input[0] & 3;
        var rest = input.IsEmpty ? input : input[1..];
        var nul = rest.IndexOf((byte)0);
        var serverFirstRaw = nul < 0 ? rest : rest[..nul];
        var serverFinalRaw = nul < 0 ? [] : rest[(nul + 1)..];

        ScramSha256Client client;
        try
        {
            client = variant switch
            {
                0 => ScramSha256Client.Create(Password, [ScramSha256Client.Mechanism], null, false),
                1 => ScramSha256Client.Create(Password, [ScramSha256Client.Mechanism], Certificate.Value, false),
                2 => ScramSha256Client.Create(Password, [ScramSha256Client.Mechanism, ScramSha256Client.MechanismPlus], Certificate.Value, true),
                _ => ScramSha256Client.Create(Password, [ScramSha256Client.Mechanism], Certificate.Value, true),
            };
        }
        catch (PgProtocolException) when (variant == 3)
        {
            FuzzCounters.Hit($"{Name}.binding-refused");
            return; // refused rather than downgraded: the documented answer
        }

        if (variant == 3)
        {
            throw new FuzzInvariantException("channel binding was required and not offered, yet the client was created");
        }

        var clientFirst = Encoding.UTF8.GetString(client.ClientFirst());
        var clientNonce = clientFirst[(clientFirst.IndexOf("r=", StringComparison.Ordinal) + 2)..];
        var serverFirst = Substitute(serverFirstRaw, Encoding.ASCII.GetBytes(clientNonce));

        byte[] clientFinal;
        try
        {
            clientFinal = client.ClientFinal(serverFirst);
        }
        catch (PgProtocolException)
        {
            FuzzCounters.Hit($"{Name}.server-first-refused");
            return;
        }

        FuzzCounters.Hit($"{Name}.client-final");

        var expectedSignature = CheckProofAsServer(clientFirst, serverFirst, Encoding.UTF8.GetString(clientFinal));
        var signatureText = Encoding.ASCII.GetBytes(Convert.ToBase64String(expectedSignature));
        var serverFinal = Substitute(serverFinalRaw, signatureText);
        var serverFinalText = Encoding.UTF8.GetString(serverFinal);
        var correct = serverFinalText.StartsWith("v=", StringComparison.Ordinal)
            && serverFinalText[2..].Split(',')[0] == Convert.ToBase64String(expectedSignature);
        try
        {
            client.VerifyServerFinal(serverFinal);
        }
        catch (PgProtocolException ex)
        {
            if (correct)
            {
                throw new FuzzInvariantException($"the correct server signature was refused: {ex.Message}");
            }

            FuzzCounters.Hit($"{Name}.server-final-refused");
            return;
        }

        if (!client.Verified)
        {
            throw new FuzzInvariantException("VerifyServerFinal returned but Verified is false");
        }

        if (!correct && !SignatureDecodesTo(serverFinalText, expectedSignature))
        {
            throw new FuzzInvariantException($"a wrong server signature was accepted: '{serverFinalText}'");
        }

        FuzzCounters.Hit($"{Name}.verified");
    }

    /// <summary>Replaces every '%' with <paramref name="replacement"/>.</summary>
    private static byte[] Substitute(ReadOnlySpan<byte> raw, ReadOnlySpan<byte> replacement)
    {
        var result = new List<byte>(raw.Length + replacement.Length);
        foreach (var b in raw)
        {
            if (b == (byte)'%')
            {
                result.AddRange(replacement);
            }
            else
            {
                result.Add(b);
            }
        }

        return [.. result];
    }

    /// <summary>Base64 allows variants (whitespace, for one) that decode to the right bytes: those are correct too.</summary>
    private static bool SignatureDecodesTo(string serverFinal, byte[] expected)
    {
        try
        {
            return Convert.FromBase64String(serverFinal[2..].Split(',')[0]).AsSpan().SequenceEqual(expected);
        }
        catch (FormatException)
        {
            return false;
        }
    }

    /// <summary>
    /// Verifies the client's proof the way the server does (RFC 5802 §3) and returns the ServerSignature. The
    /// server-first is parsed with the same last-wins rule as the client, since a real server sends each once.
    /// </summary>
    private static byte[] CheckProofAsServer(string clientFirst, byte[] serverFirstBytes, string clientFinal)
    {
        var serverFirst = Encoding.UTF8.GetString(serverFirstBytes);
        string salt = "", iterations = "";
        foreach (var part in serverFirst.Split(','))
        {
            if (part.StartsWith("s=", StringComparison.Ordinal)) salt = part[2..];
            else if (part.StartsWith("i=", StringComparison.Ordinal)) iterations = part[2..];
        }

        var gs2End = clientFirst.IndexOf(",,", StringComparison.Ordinal) + 2;
        var clientFirstBare = clientFirst[gs2End..];
        var proofAt = clientFinal.LastIndexOf(",p=", StringComparison.Ordinal);
        if (proofAt < 0)
        {
            throw new FuzzInvariantException($"client-final has no proof: '{clientFinal}'");
        }

        var withoutProof = clientFinal[..proofAt];
        var proof = Convert.FromBase64String(clientFinal[(proofAt + 3)..]);
        var authMessage = Encoding.UTF8.GetBytes(clientFirstBare + "," + serverFirst + "," + withoutProof);
        var salted = Rfc2898DeriveBytes.Pbkdf2(Encoding.UTF8.GetBytes(Password), Convert.FromBase64String(salt),
            int.Parse(iterations, System.Globalization.CultureInfo.InvariantCulture), HashAlgorithmName.SHA256, 32);
        var storedKey = SHA256.HashData(HMACSHA256.HashData(salted, "Client Key"u8));
        var clientSignature = HMACSHA256.HashData(storedKey, authMessage);
        if (proof.Length != clientSignature.Length)
        {
            throw new FuzzInvariantException($"client proof of {proof.Length} bytes");
        }

        var recoveredClientKey = new byte[proof.Length];
        for (var i = 0; i < proof.Length; i++)
        {
            recoveredClientKey[i] = (byte)(proof[i] ^ clientSignature[i]);
        }

        if (!SHA256.HashData(recoveredClientKey).AsSpan().SequenceEqual(storedKey))
        {
            throw new FuzzInvariantException("the client's proof does not verify on the server side");
        }

        var expectedBinding = clientFirst[..gs2End];
        if (!withoutProof.StartsWith("c=", StringComparison.Ordinal)
            || !Encoding.UTF8.GetString(Convert.FromBase64String(withoutProof[2..withoutProof.IndexOf(',', StringComparison.Ordinal)])).StartsWith(expectedBinding, StringComparison.Ordinal))
        {
            throw new FuzzInvariantException($"client-final's channel binding does not repeat the gs2 header '{expectedBinding}'");
        }

        return HMACSHA256.HashData(HMACSHA256.HashData(salted, "Server Key"u8), authMessage);
    }

    private static X509Certificate2 CreateCertificate()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=fuzz", key, HashAlgorithmName.SHA256);
        return request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
    }
}
