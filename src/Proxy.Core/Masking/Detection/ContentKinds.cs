namespace Gatehouse.Proxy.Core.Masking;

[Flags]
public enum ContentKinds : ushort { None = 0, Card = 1, Email = 2, UsSsn = 4, Iban = 8, Phone = 16, AwsKey = 32, Jwt = 64, PrivateKey = 128, All = 255 }
