using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Gatehouse.Tests.Identity;

/// <summary>An HTTP server on 127.0.0.1 serving a JWKS and an OIDC discovery document, counting requests.</summary>
internal sealed class LocalMetadataServer : IDisposable
{
    private readonly HttpListener _listener = new();
    private readonly Task _loop;

    public LocalMetadataServer(string issuer)
    {
        Issuer = issuer;
        var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        var port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        BaseUrl = new Uri($"http://127.0.0.1:{port}/");
        _listener.Prefixes.Add(BaseUrl.AbsoluteUri);
        _listener.Start();
        _loop = Task.Run(ServeAsync);
    }

    public Uri BaseUrl { get; }

    public Uri JwksUrl => new(BaseUrl, "jwks");

    public Uri DiscoveryUrl => new(BaseUrl, ".well-known/openid-configuration");

    public string Issuer { get; set; }

    public string Jwks { get; set; } = TestJwt.Jwks();

    public ConcurrentDictionary<string, int> Requests { get; } = new();

    public int JwksRequests => Requests.GetValueOrDefault("/jwks");

    private async Task ServeAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception ex) when (ex is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }

            var path = context.Request.Url!.AbsolutePath;
            Requests.AddOrUpdate(path, 1, (_, n) => n + 1);
            var body = path switch
            {
                "/jwks" => Jwks,
                "/.well-known/openid-configuration" =>
                    $$"""{"issuer":"{{Issuer}}","jwks_uri":"{{JwksUrl.AbsoluteUri}}","authorization_endpoint":"{{BaseUrl}}auth"}""",
                _ => null,
            };
            context.Response.StatusCode = body is null ? 404 : 200;
            context.Response.ContentType = "application/json";
            var bytes = Encoding.UTF8.GetBytes(body ?? "{}");
            await context.Response.OutputStream.WriteAsync(bytes);
            context.Response.Close();
        }
    }

    public void Dispose()
    {
        _listener.Stop();
        _listener.Close();
        _loop.Wait(TimeSpan.FromSeconds(5));
    }
}
