using Gatehouse.Fuzz.Targets;

namespace Gatehouse.Fuzz;

/// <summary>Every target, for the runner's <c>all</c> and for the smoke tests.</summary>
internal static class FuzzTargets
{
    public static IReadOnlyList<FuzzTarget> All { get; } =
    [
        Describe<PgStartupTarget>(),
        Describe<PgFrontendFramesTarget>(),
        Describe<PgBackendFramesTarget>(),
        Describe<PgHandshakeTarget>(),
        Describe<ScramServerMessagesTarget>(),
        Describe<MySqlClientFramesTarget>(),
        Describe<MySqlServerFramesTarget>(),
        Describe<MySqlHandshakeParsersTarget>(),
        Describe<MySqlLexerTarget>(),
        Describe<SqlClassifierTarget>(),
        Describe<PgRowMaskerTarget>(),
        Describe<PgCopyMaskerTarget>(),
        Describe<MySqlRowMaskerTarget>(),
        Describe<ServerMessageMaskingTarget>(),
        Describe<SegmentReaderTarget>(),
    ];

    public static FuzzTarget? Find(string name)
        => All.FirstOrDefault(t => string.Equals(t.Name, name, StringComparison.OrdinalIgnoreCase));

    private static FuzzTarget Describe<T>()
        where T : IFuzzTarget
        => new(T.Name, T.Run, T.HangTimeout);
}
