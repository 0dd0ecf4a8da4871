using System.Text.Json.Serialization;

namespace Gatehouse.Proxy.Core.Recording;

/// <summary>
/// Who a recorded session is and how it was connected (the SessionStart record, as JSON). <see cref="Features"/>
/// names protocol options that change how its bytes read (MySQL: deprecate_eof).
/// </summary>
public sealed record SessionStartInfo(
    string Protocol, string Listener, string User, IReadOnlyList<string> Groups, IReadOnlyList<string> Roles,
    string? Client, string Upstream, string Database, string? ClientTls, string? UpstreamTls, string GatewaySession,
    IReadOnlyList<string>? Features = null);

/// <summary>Why a recorded session ended (the SessionEnd record).</summary>
public sealed record SessionEndInfo(string Reason, string? Detail);

/// <summary>One policy decision (the Decision record); <see cref="Statement"/> only for refused texts, which are never forwarded.</summary>
public sealed record DecisionInfo(string Decision, string Rule, string Kind, string Risks, string? Reason, string? Statement);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(SessionStartInfo))]
[JsonSerializable(typeof(SessionEndInfo))]
[JsonSerializable(typeof(DecisionInfo))]
public sealed partial class RecordingJson : JsonSerializerContext;
