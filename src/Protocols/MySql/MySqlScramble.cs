using System.Security.Cryptography;
using System.Text;

namespace Gatehouse.Protocols.MySql;

/// <summary>The challenge-response computations of the MySQL authentication plugins.</summary>
internal static class MySqlScramble
{
    /// <summary>mysql_native_password: SHA1(password) XOR SHA1(scramble + SHA1(SHA1(password))).</summary>
    public static byte[] NativePassword(string password, ReadOnlySpan<byte> scramble)
    {
        if (password.Length == 0)
        {
            return [];
        }

        var stage1 = SHA1.HashData(Encoding.UTF8.GetBytes(password));
        var stage2 = SHA1.HashData(stage1);
        var input = new byte[scramble.Length + stage2.Length];
        scramble.CopyTo(input);
        stage2.CopyTo(input, scramble.Length);
        var mask = SHA1.HashData(input);
        for (var i = 0; i < stage1.Length; i++)
        {
            stage1[i] ^= mask[i];
        }

        return stage1;
    }

    /// <summary>caching_sha2_password fast path: SHA256(password) XOR SHA256(SHA256(SHA256(password)) + scramble).</summary>
    public static byte[] CachingSha2(string password, ReadOnlySpan<byte> scramble)
    {
        if (password.Length == 0)
        {
            return [];
        }

        var stage1 = SHA256.HashData(Encoding.UTF8.GetBytes(password));
        var stage2 = SHA256.HashData(stage1);
        var input = new byte[stage2.Length + scramble.Length];
        stage2.CopyTo(input, 0);
        scramble.CopyTo(input.AsSpan(stage2.Length));
        var mask = SHA256.HashData(input);
        for (var i = 0; i < stage1.Length; i++)
        {
            stage1[i] ^= mask[i];
        }

        return stage1;
    }
}
