namespace Gatehouse.Proxy.Core.Policy;

/// <summary>
/// When a rule applies: a set of weekdays and a daily span of local time in a named (IANA) time zone. A span
/// whose end is before its start runs past midnight (22:00-06:00), and belongs to the day it starts on.
/// </summary>
public sealed record TimeWindow(IReadOnlySet<DayOfWeek> Days, TimeOnly From, TimeOnly To, TimeZoneInfo Zone)
{
    public bool Contains(DateTimeOffset instant)
    {
        var local = TimeZoneInfo.ConvertTime(instant, Zone);
        var time = TimeOnly.FromDateTime(local.DateTime);
        if (From <= To)
        {
            return Days.Contains(local.DayOfWeek) && time >= From && time < To;
        }

        // Overnight: the evening part belongs to today, the morning part to yesterday's window.
        return time >= From ? Days.Contains(local.DayOfWeek) : time < To && Days.Contains(local.AddDays(-1).DayOfWeek);
    }
}
