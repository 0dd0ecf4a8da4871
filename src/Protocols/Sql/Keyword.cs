using System.Buffers.Binary;
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
/// ASCII letters in key words). It runs for every word of every statement, so a word of up to 16 bytes is
/// loaded as two 64-bit halves with bit 0x20 set in each byte (which folds exactly A-Z onto a-z among bytes
/// that can match a spelling), hashed with two multiplications into an open-addressed table and compared as
/// two integers: no per-byte loop, no allocation. Measured with ClassifierBenchmarks (see README).
/// </summary>
internal static class Keywords
{
    public const int MaxLength = 16;

    private const int TableBits = 10; // 1,024 slots, about four times the key words
    private const ulong CaseBits = 0x2020_2020_2020_2020;
    private static readonly Entry[] Table = new Entry[1 << TableBits];

    /// <summary>A spelling as two folded halves. <see cref="Underscore"/>: '_' folds to 0x7F like DEL, so such spellings are checked byte by byte.</summary>
    private readonly record struct Entry(ulong Low, ulong High, byte Length, bool Underscore, Keyword Keyword);

    static Keywords()
    {
        foreach (var keyword in Enum.GetValues<Keyword>())
        {
            if (keyword == Keyword.None)
            {
                continue;
            }

            var spelling = Encoding.ASCII.GetBytes(keyword switch
            {
                Keyword.HighPriority => "high_priority",
                Keyword.LowPriority => "low_priority",
                Keyword.PersistOnly => "persist_only",
                Keyword.StraightJoin => "straight_join",
                _ => keyword.ToString().ToLowerInvariant(),
            });
            var (low, high) = Fold(spelling);
            var slot = Slot(low, high);
            while (Table[slot].Length != 0)
            {
                slot = (slot + 1) & (Table.Length - 1);
            }

            Table[slot] = new Entry(low, high, (byte)spelling.Length, spelling.Contains((byte)'_'), keyword);
        }
    }

    public static Keyword Lookup(ReadOnlySpan<byte> word)
    {
        if (word.Length is 0 or > MaxLength)
        {
            return Keyword.None;
        }

        var (low, high) = Fold(word);
        var slot = Slot(low, high);
        while (true)
        {
            ref readonly var entry = ref Table[slot];
            if (entry.Length == 0)
            {
                return Keyword.None;
            }

            if (entry.Low == low && entry.High == high && entry.Length == word.Length
                && (!entry.Underscore || UnderscoresMatch(word)))
            {
                return entry.Keyword;
            }

            slot = (slot + 1) & (Table.Length - 1);
        }
    }

    /// <summary>The word (1-16 bytes) as two little-endian halves, zero-padded, every byte's bit 0x20 set.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    private static (ulong Low, ulong High) Fold(ReadOnlySpan<byte> word)
    {
        var n = word.Length;
        ulong low, high = 0;
        if (n >= 8)
        {
            low = BinaryPrimitives.ReadUInt64LittleEndian(word) | CaseBits;
            if (n > 8)
            {
                // The last 8 bytes, shifted down past the ones the low half already holds.
                high = (BinaryPrimitives.ReadUInt64LittleEndian(word[(n - 8)..]) >> ((16 - n) * 8)) | (CaseBits >> ((16 - n) * 8));
            }
        }
        else
        {
            // Two overlapping reads cover 2-7 bytes; the overlap ORs a byte with itself.
            low = n >= 4
                ? BinaryPrimitives.ReadUInt32LittleEndian(word) | ((ulong)BinaryPrimitives.ReadUInt32LittleEndian(word[(n - 4)..]) << ((n - 4) * 8))
                : n >= 2
                    ? BinaryPrimitives.ReadUInt16LittleEndian(word) | ((ulong)BinaryPrimitives.ReadUInt16LittleEndian(word[(n - 2)..]) << ((n - 2) * 8))
                    : word[0];
            low |= CaseBits >> ((8 - n) * 8);
        }

        return (low, high);
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    private static int Slot(ulong low, ulong high)
        => (int)(((low * 0x9E37_79B9_7F4A_7C15) ^ (high * 0xC2B2_AE3D_27D4_EB4F)) >> (64 - TableBits));

    /// <summary>The folded halves matched a spelling with '_': make sure the word has '_' there and not DEL.</summary>
    private static bool UnderscoresMatch(ReadOnlySpan<byte> word) => !word.Contains((byte)0x7F);
}
