using System.Security.Cryptography;

namespace JobRelay.Cli;

/// <summary>
/// The key <c>jobrelay serve</c> requires. Only a key serve chose itself is printed: a key from the command line or
/// the settings is the operator's secret, and stdout ends up in container logs.
/// </summary>
/// <param name="Value">The key.</param>
/// <param name="Printable">True when serve chose the key (generated, or the sandbox's well-known one).</param>
internal sealed record ServeApiKey(string Value, bool Printable)
{
    /// <summary>The key from <c>--api-key</c>, else <c>JobRelay:Serve:ApiKey</c>, else the sandbox's, else a random one.</summary>
    public static ServeApiKey Choose(string? option, string? configured, bool sandbox)
    {
        if (!string.IsNullOrEmpty(option))
        {
            return new ServeApiKey(option, Printable: false);
        }

        if (!string.IsNullOrEmpty(configured))
        {
            return new ServeApiKey(configured, Printable: false);
        }

        return sandbox
            ? new ServeApiKey(ServeCommand.SandboxApiKey, Printable: true)
            : new ServeApiKey(Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16)), Printable: true);
    }

    /// <summary>What the banner shows for the key.</summary>
    public string Shown => Printable ? Value : "as configured (--api-key or JobRelay:Serve:ApiKey), not printed";

    public override string ToString() => Printable ? Value : "[configured]";
}
