using System.Text;
using FsCheck;
using FsCheck.Fluent;
using Gatehouse.Protocols.Sql;

namespace Gatehouse.Tests.Policy;

/// <summary>
/// <see cref="Keywords.Lookup"/> folds case and compares packed 64-bit halves; these pin that it is exact:
/// every key word in any ASCII case, and nothing that differs in a single byte, length or non-ASCII case.
/// </summary>
public sealed class KeywordsTests
{
    private static readonly FsCheck.Config Config = FsCheck.Config.QuickThrowOnFailure.WithMaxTest(2000);

    public static TheoryData<string> AllKeywords()
    {
        var data = new TheoryData<string>();
        foreach (var keyword in Enum.GetValues<Keyword>().Where(k => k != Keyword.None))
        {
            data.Add(keyword.ToString());
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(AllKeywords))]
    public void EveryKeywordIsFoundInAnyCaseAndNoOneByteVariantIs(string name)
    {
        var keyword = Enum.Parse<Keyword>(name);
        var spelling = SpellingOf(keyword);
        Assert.Equal(keyword, Lookup(spelling));
        Assert.Equal(keyword, Lookup(spelling.ToUpperInvariant()));
        Assert.Equal(keyword, Lookup(string.Concat(spelling.Select((c, i) => i % 2 == 0 ? char.ToUpperInvariant(c) : c))));

        // Shorter, longer, and every byte replaced by a neighbour or by the bytes that fold like '_' or a letter.
        Assert.NotEqual(keyword, Lookup(spelling[..^1]));
        Assert.NotEqual(keyword, Lookup(spelling + "s"));
        Assert.NotEqual(keyword, Lookup("_" + spelling));
        var bytes = Encoding.ASCII.GetBytes(spelling);
        for (var i = 0; i < bytes.Length; i++)
        {
            foreach (var replacement in new byte[] { (byte)(bytes[i] + 1), 0x7F, 0x5F, 0x40, 0x60, 0x00, 0xC0, (byte)(bytes[i] ^ 0x80) })
            {
                if (replacement == bytes[i] || (replacement | 0x20) == bytes[i] && char.IsAsciiLetter((char)replacement))
                {
                    continue;
                }

                var variant = (byte[])bytes.Clone();
                variant[i] = replacement;
                Assert.Equal(Keyword.None, Keywords.Lookup(variant));
            }
        }
    }

    [Theory]
    [InlineData("", "None")]
    [InlineData("persist_only", "PersistOnly")]
    [InlineData("PERSIST\u007FONLY", "None")]
    [InlineData("straight_join", "StraightJoin")]
    [InlineData("configurationxxxx", "None")] // 17 bytes: over the longest key word
    [InlineData("selectselectselec", "None")]
    [InlineData("ſelect", "None")] // U+017F folds to 's' in Unicode, never in SQL key words
    [InlineData("\u0130n", "None")]
    public void EdgeCases(string word, string expected) => Assert.Equal(Enum.Parse<Keyword>(expected), Lookup(word));

    [Fact]
    public void LookupAgreesWithAPlainCaseInsensitiveComparison()
    {
        var spellings = Enum.GetValues<Keyword>().Where(k => k != Keyword.None).ToDictionary(k => SpellingOf(k), k => k);
        var alphabet = "aAeEsSlLcCtT_1$\u007F".ToCharArray();
        var words = Gen.OneOf(
            Gen.Elements(alphabet).ArrayOf().Where(a => a.Length is > 0 and <= 17).Select(a => new string(a)),
            Gen.Elements(spellings.Keys.ToArray()).SelectMany(s => Gen.Choose(0, s.Length - 1).Select(i => s.Remove(i, 1))),
            Gen.Elements(spellings.Keys.ToArray()).SelectMany(s => Gen.Choose(0, s.Length - 1).Select(i => s[..i] + char.ToUpperInvariant(s[i]) + s[(i + 1)..])));
        Prop.ForAll(words.ToArbitrary(), word =>
        {
            var expected = spellings.TryGetValue(Ascii(word), out var k) ? k : Keyword.None;
            return Lookup(word) == expected;
        }).Check(Config);
    }

    private static Keyword Lookup(string word) => Keywords.Lookup(Encoding.UTF8.GetBytes(word));

    /// <summary>Lower-cases ASCII letters only, as the servers fold key words.</summary>
    private static string Ascii(string word) => string.Concat(word.Select(c => c is >= 'A' and <= 'Z' ? (char)(c + 32) : c));

    private static string SpellingOf(Keyword keyword) => keyword switch
    {
        Keyword.HighPriority => "high_priority",
        Keyword.LowPriority => "low_priority",
        Keyword.PersistOnly => "persist_only",
        Keyword.StraightJoin => "straight_join",
        _ => keyword.ToString().ToLowerInvariant(),
    };
}
