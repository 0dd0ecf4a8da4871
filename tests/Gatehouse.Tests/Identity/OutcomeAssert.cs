using Gatehouse.Proxy.Core.Identity;

namespace Gatehouse.Tests.Identity;

internal static class OutcomeAssert
{
    public static AuthenticatedIdentity Accepted(TokenValidationOutcome outcome)
    {
        Assert.True(outcome.Succeeded, $"expected acceptance, got {outcome.Reason}: {outcome.Message}");
        Assert.Equal(TokenRejection.None, outcome.Reason);
        return outcome.Identity!;
    }

    /// <summary>Refused for <paramref name="reason"/>, with a message that leaks no part of the token.</summary>
    public static void Rejected(TokenValidationOutcome outcome, TokenRejection reason, string token)
    {
        Assert.Null(outcome.Identity);
        Assert.False(outcome.Succeeded);
        Assert.Equal(reason, outcome.Reason);
        Assert.False(string.IsNullOrWhiteSpace(outcome.Message));
        if (token.Length > 0)
        {
            Assert.DoesNotContain(token, outcome.Message, StringComparison.Ordinal);
        }

        foreach (var part in token.Split('.'))
        {
            // Any recognisable fragment (a segment or the first 12 characters of one) counts as a leak.
            if (part.Length >= 12)
            {
                Assert.DoesNotContain(part[..12], outcome.Message, StringComparison.Ordinal);
            }
        }
    }
}
