using System.Globalization;

namespace Gatehouse.Host.Demo;

/// <summary>
/// The OS account the database server tools run as. postgres and initdb refuse to run as root (mariadbd too, unless told
/// --user=root), and CI runs as root, so as root we create an unprivileged system user once and drop to it for every
/// server command; otherwise we run commands unchanged as ourselves.
/// </summary>
internal sealed class ServerAccount
{
    private const string SetprivPath = "/usr/bin/setpriv";
    private const string RunuserPath = "/usr/sbin/runuser";

    // Serializes the check-then-useradd within this process; concurrent processes are handled by re-checking after a failed useradd.
    private static readonly SemaphoreSlim EnsureLock = new(1, 1);

    private readonly string? _name;
    private readonly string? _uid;
    private readonly string? _gid;

    private ServerAccount(string? name, string? uid, string? gid)
    {
        _name = name;
        _uid = uid;
        _gid = gid;
    }

    /// <summary>Null when commands run as the current user.</summary>
    public string? Name => _name;

    public static bool CurrentIsRoot => Environment.UserName == "root";

    public static async Task<ServerAccount> ResolveAsync(string systemUser, CancellationToken cancellationToken)
    {
        if (!CurrentIsRoot)
        {
            return new ServerAccount(null, null, null);
        }

        await EnsureLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var ids = await LookupAsync(systemUser, cancellationToken).ConfigureAwait(false);
            if (ids is null)
            {
                var add = await ProcessRunner.RunAsync(
                    new ProcessCommand("/usr/sbin/useradd", ["--system", "--no-create-home", "--user-group", "--shell", "/usr/sbin/nologin", systemUser]),
                    cancellationToken).ConfigureAwait(false);

                // Exit 9 means another process created it between our lookup and useradd: fine, look it up again.
                ids = await LookupAsync(systemUser, cancellationToken).ConfigureAwait(false);
                if (ids is null)
                {
                    add.EnsureSuccess($"Creating the unprivileged system user '{systemUser}' for the database server");
                    throw new LocalPostgresException($"useradd reported success but user '{systemUser}' does not exist.");
                }
            }

            if (ids.Value.Uid == "0")
            {
                throw new LocalPostgresException($"System user '{systemUser}' has uid 0; the database server must not run as root.");
            }

            return new ServerAccount(systemUser, ids.Value.Uid, ids.Value.Gid);
        }
        finally
        {
            EnsureLock.Release();
        }
    }

    /// <summary>Makes <paramref name="path"/> (recursively) belong to the server account; a no-op when not root.</summary>
    public async Task ChownAsync(string path, CancellationToken cancellationToken)
    {
        if (_name is null)
        {
            return;
        }

        var result = await ProcessRunner.RunAsync(
            new ProcessCommand("/usr/bin/chown", ["-R", $"{_uid}:{_gid}", path]),
            cancellationToken).ConfigureAwait(false);
        result.EnsureSuccess($"Giving '{path}' to '{_name}'");
    }

    /// <summary>Rewrites the command to run as the server account.</summary>
    public ProcessCommand Wrap(ProcessCommand command)
    {
        if (_name is null)
        {
            return command;
        }

        // setpriv changes ids without PAM (runuser opens a PAM session, which fails in some minimal containers)
        // and execs rather than forking, so timeouts and kills reach the real program.
        if (File.Exists(SetprivPath))
        {
            return command with
            {
                FileName = SetprivPath,
                Arguments = ["--reuid", _uid!, "--regid", _gid!, "--clear-groups", "--", command.FileName, .. command.Arguments],
            };
        }

        return command with
        {
            FileName = RunuserPath,
            Arguments = ["-u", _name, "--", command.FileName, .. command.Arguments],
        };
    }

    private static async Task<(string Uid, string Gid)?> LookupAsync(string user, CancellationToken cancellationToken)
    {
        var uid = await ProcessRunner.RunAsync(new ProcessCommand("/usr/bin/id", ["-u", user]), cancellationToken).ConfigureAwait(false);
        if (!uid.Succeeded)
        {
            return null;
        }

        var gid = await ProcessRunner.RunAsync(new ProcessCommand("/usr/bin/id", ["-g", user]), cancellationToken).ConfigureAwait(false);
        gid.EnsureSuccess($"Looking up the group of '{user}'");
        return (ParseId(uid.StandardOutput), ParseId(gid.StandardOutput));
    }

    private static string ParseId(string output)
    {
        var text = output.Trim();
        return uint.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out _)
            ? text
            : throw new LocalPostgresException($"Unexpected output from id: '{text}'.");
    }
}
