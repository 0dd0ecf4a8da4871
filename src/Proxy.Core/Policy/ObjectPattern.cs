namespace Gatehouse.Proxy.Core.Policy;

/// <summary>
/// A glob over object names (<c>*</c> any run, <c>?</c> one character), case-insensitive. A pattern with a
/// schema (<c>public.acc*</c>) compared with an unqualified name (<c>accounts</c>) matches on the last part
/// only when <c>loose</c>: deny and hold rules match loosely (the search path could resolve the name to that
/// schema), allow rules do not (it could resolve elsewhere).
/// </summary>
public sealed class ObjectPattern(string pattern)
{
    private readonly string _lastPart = pattern[(pattern.LastIndexOf('.') + 1)..];
    private readonly bool _qualified = pattern.Contains('.', StringComparison.Ordinal);

    public string Pattern { get; } = pattern;

    public bool Matches(string name, bool loose)
    {
        if (Glob(Pattern, name))
        {
            return true;
        }

        return loose && _qualified && !name.Contains('.', StringComparison.Ordinal) && Glob(_lastPart, name);
    }

    private static bool Glob(ReadOnlySpan<char> pattern, ReadOnlySpan<char> text)
    {
        // Iterative wildcard match with one backtrack point: linear in practice, no recursion to exploit.
        int p = 0, t = 0, star = -1, mark = 0;
        while (t < text.Length)
        {
            if (p < pattern.Length && (pattern[p] == '?' || char.ToLowerInvariant(pattern[p]) == char.ToLowerInvariant(text[t])))
            {
                p++;
                t++;
            }
            else if (p < pattern.Length && pattern[p] == '*')
            {
                star = p++;
                mark = t;
            }
            else if (star >= 0)
            {
                p = star + 1;
                t = ++mark;
            }
            else
            {
                return false;
            }
        }

        while (p < pattern.Length && pattern[p] == '*')
        {
            p++;
        }

        return p == pattern.Length;
    }
}
