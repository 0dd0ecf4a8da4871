using System.Buffers.Binary;
using System.Text;

namespace Gatehouse.Protocols.Postgres.Masking;

/// <summary>The gateway's own session for catalog lookups: simple queries, text rows, one at a time.</summary>
internal sealed class PgCatalogConnection : IAsyncDisposable
{
    private const int MaxMessage = 16 * 1024 * 1024;
    private readonly PgUpstreamConnection _connection;

    private PgCatalogConnection(PgUpstreamConnection connection) => _connection = connection;

    public static async Task<PgCatalogConnection> OpenAsync(PgUpstreamConnector connector, PgUpstreamOptions options, string database, CancellationToken ct)
    {
        var connection = await connector.ConnectAsync(options, database, [new("application_name", "gatehouse-catalog")], ct).ConfigureAwait(false);
        return new PgCatalogConnection(connection);
    }

    /// <summary>Runs one statement; returns its rows as text (null = SQL NULL). A server error throws.</summary>
    public async Task<List<string?[]>> QueryAsync(string sql, CancellationToken ct)
    {
        var transport = _connection.Transport;
        PgWriter.Query(transport.Output, sql);
        await transport.Output.FlushAsync(ct).ConfigureAwait(false);
        var rows = new List<string?[]>();
        string? error = null;
        while (true)
        {
            var message = await PgHandshakeIO.ReadMessageAsync(transport.Input, MaxMessage, ct).ConfigureAwait(false);
            switch (message.Type)
            {
                case (byte)BackendCode.DataRow:
                    rows.Add(ReadRow(message.Payload));
                    break;
                case (byte)BackendCode.ErrorResponse:
                    error = PgErrorFields.Describe(message.Payload);
                    break;
                case (byte)BackendCode.ReadyForQuery:
                    return error is null ? rows : throw new PgUpstreamException($"catalog query failed: {error}");
            }
        }
    }

    /// <summary>
    /// Parses and describes <paramref name="sql"/> as the unnamed statement, without running it: the result
    /// columns with their table identity, or an empty array for a statement without rows. A server error throws.
    /// </summary>
    public async Task<PgField[]> DescribeAsync(string sql, CancellationToken ct)
    {
        var transport = _connection.Transport;
        PgWriter.Parse(transport.Output, [], sql);
        PgWriter.Describe(transport.Output, (byte)'S', "");
        PgWriter.Sync(transport.Output);
        await transport.Output.FlushAsync(ct).ConfigureAwait(false);
        PgField[]? fields = null;
        string? error = null;
        while (true)
        {
            var message = await PgHandshakeIO.ReadMessageAsync(transport.Input, MaxMessage, ct).ConfigureAwait(false);
            switch (message.Type)
            {
                case (byte)BackendCode.RowDescription:
                    fields = PgField.ParseRowDescription(message.Payload) ?? throw new PgUpstreamException("malformed RowDescription on the catalog connection");
                    break;
                case (byte)BackendCode.NoData:
                    fields = [];
                    break;
                case (byte)BackendCode.ErrorResponse:
                    error = PgErrorFields.Describe(message.Payload);
                    break;
                case (byte)BackendCode.ReadyForQuery:
                    return error is null && fields is not null ? fields : throw new PgUpstreamException($"describe failed: {error ?? "no description"}");
            }
        }
    }

    private static string?[] ReadRow(byte[] payload)
    {
        var span = payload.AsSpan();
        var count = BinaryPrimitives.ReadInt16BigEndian(span);
        var values = new string?[count];
        var at = 2;
        for (var i = 0; i < count; i++)
        {
            var length = BinaryPrimitives.ReadInt32BigEndian(span[at..]);
            at += 4;
            if (length >= 0)
            {
                values[i] = Encoding.UTF8.GetString(span.Slice(at, length));
                at += length;
            }
        }

        return values;
    }

    public ValueTask DisposeAsync() => _connection.DisposeAsync();
}
