using Gatehouse.Proxy.Core.Identity;

namespace Gatehouse.Tests.Identity;

/// <summary>ValidateAsync never throws for hostile input, and a changed token is never accepted as a different identity.</summary>
public sealed class JwtIdentityValidatorRobustnessTests : IDisposable
{
    private readonly IdentityTestContext _ctx = new();

    public void Dispose() => _ctx.Dispose();

    public static TheoryData<object> OddLifetimeValues => new()
    {
        "soon", 1e300, -1e300, long.MaxValue, long.MinValue, 253402300800L * 10, 1.5, true, new[] { 1, 2 },
    };

    [Theory]
    [MemberData(nameof(OddLifetimeValues))]
    public async Task Odd_exp_and_nbf_values_are_rejected_without_throwing(object value)
    {
        using var validator = _ctx.Validator();
        foreach (var claim in new[] { "exp", "nbf", "iat" })
        {
            var payload = _ctx.Payload();
            payload[claim] = value;
            var token = _ctx.Token(payload: payload);
            var outcome = await validator.ValidateAsync(token, CancellationToken.None);
            if (value is not (double or long))
            {
                // A time that is not a number is not a time.
                Assert.False(outcome.Succeeded, $"{claim}={value} was accepted");
            }

            if (outcome.Succeeded)
            {
                // Only harmless readings may pass, e.g. a far-future exp or a fractional-second nbf.
                Assert.True(claim != "exp" || outcome.Identity!.ExpiresAt > _ctx.Time.GetUtcNow());
            }
            else
            {
                OutcomeAssert.Rejected(outcome, outcome.Reason, token);
            }
        }
    }

    [Fact]
    public async Task Random_mutations_never_throw_and_never_yield_another_subject()
    {
        using var validator = _ctx.Validator();
        var token = _ctx.Token();
        var random = new Random(7638);
        const string Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.=+/ \"{}";
        for (var i = 0; i < 3000; i++)
        {
            var chars = token.ToCharArray();
            var edits = random.Next(1, 4);
            for (var e = 0; e < edits; e++)
            {
                chars[random.Next(chars.Length)] = Alphabet[random.Next(Alphabet.Length)];
            }

            var mutated = random.Next(10) == 0 ? new string(chars, 0, random.Next(chars.Length)) : new string(chars);
            var outcome = await validator.ValidateAsync(mutated, CancellationToken.None);
            if (outcome.Succeeded)
            {
                // Base64url's spare low bits in a segment's last character can change without changing the bytes.
                Assert.Equal("alice", outcome.Identity!.Subject);
            }
            else
            {
                OutcomeAssert.Rejected(outcome, outcome.Reason, mutated);
            }
        }
    }
}
