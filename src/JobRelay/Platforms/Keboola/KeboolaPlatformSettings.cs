namespace JobRelay.Platforms.Keboola;

/// <summary>One Keboola project reached through the Job Queue API of its stack.</summary>
/// <param name="Name">The platform's name in the catalog.</param>
/// <param name="QueueUrl">The stack's Job Queue endpoint, such as <c>https://queue.keboola.com</c>; a path prefix is kept.</param>
/// <param name="TokenSecretName">The name of the secret holding the project's Storage API token (never the token itself).</param>
internal sealed record KeboolaPlatformSettings(string Name, Uri QueueUrl, string TokenSecretName);
