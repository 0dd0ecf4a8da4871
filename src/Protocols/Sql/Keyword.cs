using System.Text;

namespace Gatehouse.Protocols.Sql;

/// <summary>
/// The key words the classifiers look at, for both dialects. A word not listed here is just an identifier to
/// them, which is safe: the classifier decides from key words it knows and calls the rest unknown.
/// Each member's name, lower-cased, is its spelling (<see cref="Keywords"/> adds the few with underscores).
/// </summary>
internal enum Keyword : ushort
{
    None = 0,
    Abort, Access, Aggregate, Algorithm, All, Alter, Analyse, Analyze, And, As, Atomic, Authorization,
    Backup, Begin, Binlog, Blackhole, By,
    Call, Cascade, Case, Cast, Change, Character, Charset, Check, Checkpoint, Checksum, Close, Cluster, Collation, Column,
    Class, Comment, Commit, Concurrent, Concurrently, Configuration, Conflict, Connection, Constraint, Conversion, Copy, Create, Cross, Current, Cursor,
    Data, Database, Databases, Deallocate, Declare, Default, Definer, Delayed, Delete, Desc, Describe, Diagnostics, Dictionary,
    Discard, Do, Domain, Drop, Dumpfile, Duplicate,
    Else, Elseif, End, Event, Except, Execute, Exists, Explain, Expression, Extension, Extended,
    Family, False, Fetch, Flush, For, Foreign, Format, From, Full, Function,
    Get, Global, Grant, Group,
    Handler, Having, Help, HighPriority,
    Identity, If, Ignore, Immediate, Import, In, Index, Infile, Inner, Insert, Install, Instance, Intersect, Into, Is,
    Join,
    Key, Kill,
    Label, Language, Lateral, Left, Limit, Listen, Load, Local, Lock, Loop, LowPriority,
    Mapping, Master, Method, Materialized, Merge, Mode, Move,
    Names, Natural, Not, Nothing, Notify, Null,
    Of, Off, On, Only, Operator, Optimize, Or, Order, Outer, Outfile, Owned, Owner,
    Parser, Partition, Password, Persist, PersistOnly, Plugin, Policy, Prepare, Prepared, Privileges, Procedural, Procedure, Program,
    Publication, Purge,
    Query, Quick,
    Reassign, Recursive, Refresh, Reindex, Release, Rename, Repair, Repeat, Replace, Replica, Reset, Resignal,
    Restart, Restrict, Returning, Revoke, Right, Role, Rollback, Routine, Row, Rule,
    Savepoint, Schema, Schemas, Search, Security, Select, Sequence, Server, Session, Set, Share, Show, Shutdown, Signal,
    Slave, Soname, Sql, Start, Statistics, Status, Stdin, Stdout, StraightJoin, Subscription, System,
    Table, Tables, Tablespace, Temp, Template, Temporary, Text, Then, To, Transaction, Transform, Trigger, True, Truncate, Type,
    Uescape, Union, Uninstall, Unlisten, Unlock, Unlogged, Update, Usage, Use, User, Using,
    Vacuum, Values, Verbose, View,
    Wait, When, Where, While, Window, With, Work, Wrapper,
    Xa, Xml,
}

/// <summary>
/// Key word lookup from the raw bytes of an unquoted word, ASCII case-insensitive (both servers fold only
/// ASCII letters in key words). An open-addressed table hashed over the lower-cased bytes: one pass over the
/// word and one comparison, no allocation — it runs for every word of every statement.
/// </summary>
internal static class Keywords
{
    public const int MaxLength = 16;

    private const int TableSize = 1024; // a power of two, about four times the key words
    private static readonly byte[][] Spellings = new byte[TableSize][];
    private static readonly Keyword[] Values = new Keyword[TableSize];

    static Keywords()
    {
        foreach (var keyword in Enum.GetValues<Keyword>())
        {
            if (keyword == Keyword.None)
            {
                continue;
            }

            var spelling = keyword switch
            {
                Keyword.HighPriority => "high_priority",
                Keyword.LowPriority => "low_priority",
                Keyword.PersistOnly => "persist_only",
                Keyword.StraightJoin => "straight_join",
                _ => keyword.ToString().ToLowerInvariant(),
            };
            var bytes = Encoding.ASCII.GetBytes(spelling);
            var slot = Hash(bytes) & (TableSize - 1);
            while (Spellings[slot] is not null)
            {
                slot = (slot + 1) & (TableSize - 1);
            }

            Spellings[slot] = bytes;
            Values[slot] = keyword;
        }
    }

    public static Keyword Lookup(ReadOnlySpan<byte> word)
    {
        if (word.Length is 0 or > MaxLength)
        {
            return Keyword.None;
        }

        var slot = Hash(word) & (TableSize - 1);
        while (Spellings[slot] is { } spelling)
        {
            if (spelling.Length == word.Length && SpelledAs(word, spelling))
            {
                return Values[slot];
            }

            slot = (slot + 1) & (TableSize - 1);
        }

        return Keyword.None;
    }

    /// <summary>Spellings are lower-case letters and '_': folding bit 0x20 maps exactly A-Z onto a-z among the bytes that can match.</summary>
    private static bool SpelledAs(ReadOnlySpan<byte> word, byte[] spelling)
    {
        for (var i = 0; i < word.Length; i++)
        {
            var s = spelling[i];
            if ((s == '_' ? word[i] : word[i] | 0x20) != s)
            {
                return false;
            }
        }

        return true;
    }

    private static int Hash(ReadOnlySpan<byte> word)
    {
        var h = (uint)word.Length * 2654435761u;
        foreach (var b in word)
        {
            h = (h ^ (uint)(b | 0x20)) * 16777619u; // | 0x20 folds ASCII letters; other bytes only need to hash consistently
        }

        return (int)(h ^ (h >> 15));
    }
}
