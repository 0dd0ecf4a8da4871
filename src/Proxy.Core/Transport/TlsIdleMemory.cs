using System.Net.Security;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Security.Cryptography;

namespace Gatehouse.Proxy.Core.Transport;

/// <summary>
/// Lets OpenSSL free a TLS session's record buffers while the session is idle (SSL_MODE_RELEASE_BUFFERS, as
/// nginx, HAProxy and dnsdist set by default). Without it every SSL object keeps a ~17 KiB read and a ~17 KiB
/// write buffer for its whole life, and a gateway holds two TLS sessions per client; .NET does not set the mode
/// and has no option for it, so this reaches the OpenSSL handle under <see cref="SslStream"/>.
/// </summary>
/// <remarks>
/// Only memory depends on this: when the runtime's layout is not the one expected (another .NET version, not
/// Linux, a different OpenSSL than the one .NET loaded), nothing is touched and <see cref="Available"/> is false.
/// The mode is set right after the handshake, before the stream is read or written by anyone else.
/// </remarks>
public static class TlsIdleMemory
{
    private const int SslCtrlMode = 33; // SSL_CTRL_MODE
    private const nint SslModeReleaseBuffers = 0x10; // SSL_MODE_RELEASE_BUFFERS

    private static readonly FieldInfo? ContextField = FindContextField();
    private static readonly SslCtrl? Ctrl = FindSslCtrl();

    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    private delegate nint SslCtrl(nint ssl, int command, nint argument, nint pointer);

    /// <summary>True when the OpenSSL session under an <see cref="SslStream"/> can be reached on this runtime.</summary>
    public static bool Available => ContextField is not null && Ctrl is not null;

    /// <summary>Sets SSL_MODE_RELEASE_BUFFERS on the authenticated <paramref name="stream"/> when <see cref="Available"/>.</summary>
    public static void ReleaseBuffersWhenIdle(SslStream stream) => Control(stream, SslModeReleaseBuffers);

    /// <summary>The session's OpenSSL mode bits (SSL_get_mode), or null when unavailable; for tests.</summary>
    public static long? ModeOf(SslStream stream) => Control(stream, 0);

    private static long? Control(SslStream stream, nint addMode)
    {
        if (Ctrl is null || ContextField?.GetValue(stream) is not SafeHandle { IsInvalid: false, IsClosed: false } handle)
        {
            return null;
        }

        var added = false;
        try
        {
            handle.DangerousAddRef(ref added);
            return Ctrl(handle.DangerousGetHandle(), SslCtrlMode, addMode, 0); // SSL_set_mode returns the new mode
        }
        finally
        {
            if (added)
            {
                handle.DangerousRelease();
            }
        }
    }

    /// <summary>SslStream._securityContext, a SafeHandle whose handle is the SSL* on Linux (.NET 8 to 10).</summary>
    private static FieldInfo? FindContextField()
    {
        if (!OperatingSystem.IsLinux())
        {
            return null;
        }

        var field = typeof(SslStream).GetField("_securityContext", BindingFlags.NonPublic | BindingFlags.Instance);
        return field?.FieldType is { Name: "SafeDeleteSslContext" } type && typeof(SafeHandle).IsAssignableFrom(type) ? field : null;
    }

    /// <summary>SSL_ctrl from the libssl whose version is the one .NET reports it uses.</summary>
    private static SslCtrl? FindSslCtrl()
    {
        if (!OperatingSystem.IsLinux())
        {
            return null;
        }

        var runtimeVersion = SafeEvpPKeyHandle.OpenSslVersion;
        foreach (var name in (string[])["libssl.so.3", "libssl.so.1.1"])
        {
            if (NativeLibrary.TryLoad(name, out var library)
                && NativeLibrary.TryGetExport(library, "OpenSSL_version_num", out var versionExport)
                && NativeLibrary.TryGetExport(library, "SSL_ctrl", out var ctrl))
            {
                var version = Marshal.GetDelegateForFunctionPointer<VersionNumber>(versionExport)();
                // Same release (patch level aside) as .NET's own copy: then it is the library .NET loaded, not a second one.
                if (((long)version >> 12) == (runtimeVersion >> 12))
                {
                    return Marshal.GetDelegateForFunctionPointer<SslCtrl>(ctrl);
                }
            }
        }

        return null;
    }

    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    private delegate nuint VersionNumber();
}
