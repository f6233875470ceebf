using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using JobRelay.Model;
using JobRelay.Secrets;
using Microsoft.Extensions.Logging;

namespace JobRelay.Platforms.Keboola;

/// <summary>
/// Starts, reads and kills jobs through a Keboola stack's Job Queue API, authenticated by a Storage API token read
/// from the secret store (and re-read once when the queue refuses it, in case it was rotated).
/// </summary>
internal sealed class KeboolaJobPlatform : IJobPlatform
{
    private const string TokenHeader = "X-StorageApi-Token";
    private const string RunIdHeader = "X-KBC-RunId";
    private const string StartOperation = "start job";
    private const string ReadOperation = "read job";
    private const string KillOperation = "kill job";
    private const int MaxErrorTextLength = 500;
    // The body goes to an API, never into a page: only what JSON itself requires is escaped, so it reads as sent.
    private static readonly JsonSerializerOptions BodyOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
    private static readonly MediaTypeHeaderValue JsonMediaType = new("application/json");
    private static readonly MediaTypeWithQualityHeaderValue AcceptJson = new("application/json");

    private readonly KeboolaPlatformSettings _settings;
    private readonly PlatformSender _sender;
    private readonly ISecretStore _secrets;
    private readonly ILogger<KeboolaJobPlatform> _logger;
    private readonly Uri _jobsUrl;

    public KeboolaJobPlatform(KeboolaPlatformSettings settings, PlatformSender sender, ISecretStore secrets, ILogger<KeboolaJobPlatform> logger)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(sender);
        ArgumentNullException.ThrowIfNull(secrets);
        ArgumentNullException.ThrowIfNull(logger);
        ArgumentException.ThrowIfNullOrWhiteSpace(settings.Name, nameof(settings));
        ArgumentException.ThrowIfNullOrWhiteSpace(settings.TokenSecretName, nameof(settings));
        if (settings.QueueUrl is not { IsAbsoluteUri: true } queueUrl || (queueUrl.Scheme != Uri.UriSchemeHttps && queueUrl.Scheme != Uri.UriSchemeHttp))
        {
            throw new ArgumentException("The Keboola queue URL must be an absolute http(s) URL.", nameof(settings));
        }

        _settings = settings;
        _sender = sender;
        _secrets = secrets;
        _logger = logger;
        _jobsUrl = JobsUrl(queueUrl);
    }

    /// <inheritdoc />
    public string Name => _settings.Name;

    /// <inheritdoc />
    public PlatformKind Kind => PlatformKind.Keboola;

    /// <inheritdoc />
    /// <exception cref="ArgumentException"><paramref name="request"/> is not a <see cref="KeboolaJobRequest"/>.</exception>
    public async Task<StartedJob> StartJobAsync(JobRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request is not KeboolaJobRequest job)
        {
            throw new ArgumentException($"Keboola platform '{Name}' starts only Keboola jobs, not {request.GetType().Name}.", nameof(request));
        }

        var body = Encoding.UTF8.GetBytes(KeboolaJobBody.Build(job, Name).ToJsonString(BodyOptions));
        KeboolaLog.Starting(_logger, Name, job.Trigger, job.Component);
        using var answer = await SendAsync(
            PlatformRequestKind.StartJob,
            StartOperation,
            token =>
            {
                var message = new HttpRequestMessage(HttpMethod.Post, _jobsUrl) { Content = new ByteArrayContent(body) };
                message.Content.Headers.ContentType = JsonMediaType;
                if (job.ParentRunId is not null)
                {
                    message.Headers.Add(RunIdHeader, job.ParentRunId);
                }

                return Authorise(message, token);
            },
            cancellationToken);

        if (!answer.Response.IsSuccessStatusCode)
        {
            throw await FailureAsync(answer, StartOperation, jobId: null, cancellationToken);
        }

        var started = await ReadJobAsync(answer, StartOperation, "The job may have been created: check the platform before starting it again.", cancellationToken);
        KeboolaLog.Started(_logger, Name, job.Trigger, job.Component, started.Status.JobId, started.RunId, started.Status.RawStatus);
        return new StartedJob(started.Status.JobId, started.Status) { RunId = started.RunId };
    }

    /// <inheritdoc />
    public async Task<JobStatus> GetJobStatusAsync(string jobId, CancellationToken cancellationToken)
    {
        var jobUrl = JobUrl(jobId);
        using var answer = await SendAsync(
            PlatformRequestKind.Read,
            ReadOperation,
            token => Authorise(new HttpRequestMessage(HttpMethod.Get, jobUrl), token),
            cancellationToken);

        if (!answer.Response.IsSuccessStatusCode)
        {
            throw await FailureAsync(answer, ReadOperation, jobId, cancellationToken);
        }

        var job = await ReadJobAsync(answer, ReadOperation, problemNote: null, cancellationToken);
        KeboolaLog.StatusRead(_logger, Name, job.Status.JobId, job.Status.RawStatus, job.Status.IsFinal);
        return job.Status;
    }

    /// <inheritdoc />
    /// <remarks>Keboola cancels by killing; approvals and restarts are TheEye's.</remarks>
    public IReadOnlySet<JobControl> Controls { get; } = new HashSet<JobControl> { JobControl.Cancel };

    /// <summary>Kills the job (<see cref="KillJobAsync"/>): the one way Keboola cancels, for operators and the watch alike.</summary>
    public async Task<JobControlOutcome> CancelJobAsync(string jobId, CancellationToken cancellationToken)
        => new JobControlOutcome.Applied($"kill of job {jobId} requested", await KillJobAsync(jobId, cancellationToken));

    /// <inheritdoc />
    public Task<JobControlOutcome> ApproveJobAsync(string jobId, CancellationToken cancellationToken)
        => Task.FromResult<JobControlOutcome>(JobControlOutcome.NotOffered(this, JobControl.Approve));

    /// <inheritdoc />
    public Task<JobControlOutcome> RejectJobAsync(string jobId, CancellationToken cancellationToken)
        => Task.FromResult<JobControlOutcome>(JobControlOutcome.NotOffered(this, JobControl.Reject));

    /// <inheritdoc />
    public Task<JobControlOutcome> RestartJobAsync(string jobId, JobRequest request, CancellationToken cancellationToken)
        => Task.FromResult<JobControlOutcome>(JobControlOutcome.NotOffered(this, JobControl.Restart));

    /// <summary>
    /// Asks the queue to kill a job (<c>POST /jobs/{id}/kill</c>, answered 202) and returns the job's status read
    /// right after: usually <c>terminating</c>, since killing takes a while.
    /// </summary>
    /// <remarks>Killing is repeatable, so the request is retried like a read.</remarks>
    public async Task<JobStatus> KillJobAsync(string jobId, CancellationToken cancellationToken)
    {
        var killUrl = new Uri(JobUrl(jobId).AbsoluteUri + "/kill");
        using (var answer = await SendAsync(
            PlatformRequestKind.Read,
            KillOperation,
            token => Authorise(new HttpRequestMessage(HttpMethod.Post, killUrl), token),
            cancellationToken))
        {
            if (!answer.Response.IsSuccessStatusCode)
            {
                throw await FailureAsync(answer, KillOperation, jobId, cancellationToken);
            }
        }

        KeboolaLog.KillRequested(_logger, Name, jobId);
        return await GetJobStatusAsync(jobId, cancellationToken);
    }

    private static Uri JobsUrl(Uri queueUrl)
    {
        var root = new UriBuilder(queueUrl) { Query = string.Empty, Fragment = string.Empty };
        if (!root.Path.EndsWith('/'))
        {
            root.Path += "/";
        }

        return new Uri(root.Uri, "jobs");
    }

    private Uri JobUrl(string jobId)
    {
        ArgumentNullException.ThrowIfNull(jobId);
        if (string.IsNullOrWhiteSpace(jobId) || jobId is "." or "..")
        {
            throw new RelayException(RelayErrorKind.InvalidInput, $"'{jobId}' is not a Keboola job id.") { Platform = Name };
        }

        return new Uri(_jobsUrl.AbsoluteUri + "/" + Uri.EscapeDataString(jobId));
    }

    private static HttpRequestMessage Authorise(HttpRequestMessage message, string token)
    {
        message.Headers.TryAddWithoutValidation(TokenHeader, token);
        message.Headers.Accept.Add(AcceptJson);
        return message;
    }

    /// <summary>Sends with the current token and, when the queue refuses it, once more with the token re-read.</summary>
    private async Task<TokenAnswer> SendAsync(
        PlatformRequestKind kind,
        string operation,
        Func<string, HttpRequestMessage> createRequest,
        CancellationToken cancellationToken)
    {
        return await _secrets.UseWithRotationAsync(
            _settings.TokenSecretName,
            async (secret, ct) =>
            {
                var token = secret.Value.Trim();
                if (!KeboolaJobBody.IsHeaderSafe(token))
                {
                    KeboolaLog.UnusableToken(_logger, Name, _settings.TokenSecretName);
                    throw new RelayException(
                        RelayErrorKind.PlatformAuthenticationFailed,
                        $"The token secret '{_settings.TokenSecretName}' of Keboola platform '{Name}' is empty or holds characters an HTTP header cannot carry: it must hold a Storage API token of the stack served at {_settings.QueueUrl.Authority}.")
                    {
                        Platform = Name,
                    };
                }

                var response = await _sender.SendAsync(kind, operation, () => createRequest(token), ct);
                return new TokenAnswer(response, token);
            },
            answer =>
            {
                if (!IsCredentialRefusal(answer.Response.StatusCode))
                {
                    return false;
                }

                KeboolaLog.TokenRefused(_logger, Name, _settings.TokenSecretName, operation, (int)answer.Response.StatusCode);
                return true;
            },
            cancellationToken);
    }

    private static bool IsCredentialRefusal(HttpStatusCode status) => status is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden;

    private async Task<KeboolaJob> ReadJobAsync(TokenAnswer answer, string operation, string? problemNote, CancellationToken cancellationToken)
    {
        var body = await answer.Response.Content.ReadAsStringAsync(cancellationToken);
        var job = KeboolaJobResponse.ReadJob(body, out var problem);
        if (job is null)
        {
            var status = (int)answer.Response.StatusCode;
            KeboolaLog.InvalidResponse(_logger, Name, operation, status, problem!);
            throw new RelayException(
                RelayErrorKind.InvalidPlatformResponse,
                $"Keboola platform '{Name}' answered the {operation} request with HTTP {status} but {problem}." + (problemNote is null ? string.Empty : " " + problemNote))
            {
                Platform = Name,
                PlatformStatusCode = status,
            };
        }

        if (!job.IsKnownStatus)
        {
            KeboolaLog.UnknownStatus(_logger, Name, job.Status.JobId, job.Status.RawStatus, job.Status.State);
        }

        return job;
    }

    private async Task<RelayException> FailureAsync(TokenAnswer answer, string operation, string? jobId, CancellationToken cancellationToken)
    {
        var response = answer.Response;
        var status = (int)response.StatusCode;
        var body = await response.Content.ReadAsStringAsync(cancellationToken);
        var error = KeboolaJobResponse.ReadError(body);
        var errorText = Clean(error.Error, answer.Token);
        var exceptionId = Clean(error.ExceptionId, answer.Token);

        var refusedToken = response.StatusCode == HttpStatusCode.Unauthorized
            || (response.StatusCode == HttpStatusCode.Forbidden && errorText?.Contains("Invalid access token", StringComparison.OrdinalIgnoreCase) == true);
        if (refusedToken)
        {
            KeboolaLog.AuthenticationFailed(_logger, Name, _settings.TokenSecretName, operation, status);
            return new RelayException(
                RelayErrorKind.PlatformAuthenticationFailed,
                $"Keboola platform '{Name}' refused the Storage API token for the {operation} request (HTTP {status}{Detail(errorText, exceptionId)}), also after re-reading it. "
                + $"Check that the token secret '{_settings.TokenSecretName}' holds a Storage API token of the stack served at {_settings.QueueUrl.Authority}: a token works only on its own stack.")
            {
                Platform = Name,
                PlatformStatusCode = status,
            };
        }

        KeboolaLog.Rejected(_logger, Name, operation, status, errorText, exceptionId);
        if (response.StatusCode == HttpStatusCode.NotFound && jobId is not null)
        {
            return new RelayException(
                RelayErrorKind.NotFound,
                $"Keboola platform '{Name}' has no job '{jobId}' (HTTP {status}{Detail(errorText, exceptionId)}).")
            {
                Platform = Name,
                PlatformStatusCode = status,
            };
        }

        if (status is < 400 or >= 500)
        {
            return new RelayException(
                RelayErrorKind.InvalidPlatformResponse,
                $"Keboola platform '{Name}' answered the {operation} request with the unexpected HTTP {status}{Detail(errorText, exceptionId)}.")
            {
                Platform = Name,
                PlatformStatusCode = status,
            };
        }

        return new RelayException(
            RelayErrorKind.PlatformRejected,
            $"Keboola platform '{Name}' rejected the {operation} request with HTTP {status}{Detail(errorText, exceptionId)}.")
        {
            Platform = Name,
            PlatformStatusCode = status,
        };
    }

    private static string Detail(string? errorText, string? exceptionId)
    {
        var detail = new StringBuilder();
        if (errorText is not null)
        {
            detail.Append(": ").Append(errorText);
        }

        if (exceptionId is not null)
        {
            detail.Append(CultureInfo.InvariantCulture, $"; exception id {exceptionId}");
        }

        return detail.ToString();
    }

    /// <summary>Platform text made safe to show: the token redacted should the platform echo it, and bounded in length.</summary>
    private static string? Clean(string? text, string token)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }

        text = text.Replace(token, "[redacted]", StringComparison.Ordinal).Trim();
        return text.Length <= MaxErrorTextLength ? text : string.Concat(text.AsSpan(0, MaxErrorTextLength), "…");
    }

    /// <summary>A response and the token it was sent with, so that an echoed token can be kept out of messages.</summary>
    private sealed class TokenAnswer(HttpResponseMessage response, string token) : IDisposable
    {
        public HttpResponseMessage Response { get; } = response;

        public string Token { get; } = token;

        public void Dispose() => Response.Dispose();
    }
}
