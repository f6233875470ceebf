namespace JobRelay.Platforms.TheEye;

/// <summary>A TheEye organisation as the adapter needs it.</summary>
/// <param name="Name">The platform's name in the catalog.</param>
/// <param name="Url">The supervisor's endpoint, such as <c>https://supervisor.theeye.io/</c>.</param>
/// <param name="Customer">The organisation (customer) name.</param>
/// <param name="AccessTokenSecretName">The secret holding an access token; null when only task secret keys are used.</param>
internal sealed record TheEyePlatformSettings(string Name, Uri Url, string Customer, string? AccessTokenSecretName);
