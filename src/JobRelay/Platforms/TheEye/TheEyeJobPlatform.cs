using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using JobRelay.Model;
using JobRelay.Secrets;
using Microsoft.Extensions.Logging;

namespace JobRelay.Platforms.TheEye;

/// <summary>
/// Runs TheEye tasks by creating jobs: with an access token (in the <c>Authorization</c> header only, never the
/// query), with a task secret key (<c>/job/secret/{key}</c>, the documented route), or with the task-scoped secret
/// route (<c>/task/{id}/secret/{key}/job</c>, which takes the organisation from the task). The key sits in the path,
/// so no address is ever logged, traced or put in a message.
/// </summary>
internal sealed class TheEyeJobPlatform : IJobPlatform
{
    private const string StartOperation = "start job";
    private const string ReadOperation = "read job";
    private const int MaxErrorTextLength = 500;
    private static readonly MediaTypeHeaderValue JsonMediaType = new("application/json");
    private static readonly MediaTypeWithQualityHeaderValue AcceptJson = new("application/json");
    private static readonly IReadOnlySet<JobControl> AllControls = new HashSet<JobControl>(JobControlNames.All);
    private static readonly IReadOnlySet<JobControl> NoControls = new HashSet<JobControl>();

    private readonly TheEyePlatformSettings _settings;
    private readonly PlatformSender _sender;
    private readonly ISecretStore _secrets;
    private readonly ILogger<TheEyeJobPlatform> _logger;
    private readonly string _root;
    private readonly IJobSecretSource _jobSecrets;

    public TheEyeJobPlatform(
        TheEyePlatformSettings settings,
        PlatformSender sender,
        ISecretStore secrets,
        IJobSecretSource jobSecrets,
        ILogger<TheEyeJobPlatform> logger)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(sender);
        ArgumentNullException.ThrowIfNull(secrets);
        ArgumentNullException.ThrowIfNull(jobSecrets);
        ArgumentNullException.ThrowIfNull(logger);
        ArgumentException.ThrowIfNullOrWhiteSpace(settings.Customer, nameof(settings));
        if (settings.Url is not { IsAbsoluteUri: true } url || (url.Scheme != Uri.UriSchemeHttps && url.Scheme != Uri.UriSchemeHttp))
        {
            throw new ArgumentException("The TheEye URL must be an absolute http(s) URL.", nameof(settings));
        }

        _settings = settings;
        _sender = sender;
        _secrets = secrets;
        _jobSecrets = jobSecrets;
        _logger = logger;
        _root = url.GetLeftPart(UriPartial.Path).TrimEnd('/') + "/";
    }

    public string Name => _settings.Name;

    public PlatformKind Kind => PlatformKind.TheEye;

    public async Task<StartedJob> StartJobAsync(JobRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request is not TheEyeJobRequest job)
        {
            throw new ArgumentException($"TheEye platform '{Name}' starts only TheEye jobs, not {request.GetType().Name}.", nameof(request));
        }

        if (string.IsNullOrWhiteSpace(job.TaskId))
        {
            throw new RelayException(RelayErrorKind.InvalidInput, $"A TheEye job needs a task id (trigger '{job.Trigger}').") { Platform = Name };
        }

        var secretName = CredentialSecret(job);

        // Without task_arguments TheEye takes the whole body as the first argument: the array is always sent.
        var body = Encoding.UTF8.GetBytes(new JsonObject
        {
            ["task"] = job.TaskId,
            ["task_arguments"] = new JsonArray([.. job.TaskArguments.Select(a => a?.DeepClone())]),
        }.ToJsonString());

        TheEyeLog.Starting(_logger, Name, job.Trigger, job.TaskId, job.Authentication);
        using var answer = await SendAsync(PlatformRequestKind.StartJob, StartOperation, secretName, credential =>
        {
            var message = new HttpRequestMessage(HttpMethod.Post, StartUrl(job, credential)) { Content = new ByteArrayContent(body) };
            message.Content.Headers.ContentType = JsonMediaType;
            return Authorise(message, job.Authentication == TheEyeAuthentication.AccessToken ? credential : null);
        }, isAnswer: null, cancellationToken);

        var text = await answer.Response.Content.ReadAsStringAsync(cancellationToken);
        if (!answer.Response.IsSuccessStatusCode)
        {
            throw Failure(answer, text, StartOperation, secretName, jobId: null);
        }

        if (TheEyeJob.Read(text) is not { } started)
        {
            TheEyeLog.InvalidResponse(_logger, Name, StartOperation, (int)answer.Response.StatusCode);
            throw new RelayException(RelayErrorKind.InvalidPlatformResponse,
                $"TheEye platform '{Name}' answered the start request with HTTP {(int)answer.Response.StatusCode} but not with a job. The job may have been created: check the platform before starting it again.")
            {
                Platform = Name,
                PlatformStatusCode = (int)answer.Response.StatusCode,
            };
        }

        // A 200 can carry a job that TheEye built and ended at once (bad arguments). The job exists, with an id: it is
        // recorded as started and failed, so that a redelivery is answered with it instead of creating another.
        if (started.Status is { IsFinal: true, State: not JobState.Succeeded })
        {
            TheEyeLog.FailedAtOnce(_logger, Name, job.TaskId, started.Status.JobId, started.Status.RawStatus);
            var failed = started.Status with
            {
                Message = $"TheEye created job {started.Status.JobId} for task {job.TaskId} but it ended at once ({started.Status.RawStatus}){(started.Status.Message is { } m ? ": " + Clean(m, null) : string.Empty)}. Check the task's arguments.",
            };
            return new StartedJob(failed.JobId, failed) { JobSecret = started.JobSecret };
        }

        TheEyeLog.Started(_logger, Name, job.Trigger, job.TaskId, started.Status.JobId, started.Status.RawStatus);
        return new StartedJob(started.Status.JobId, started.Status) { JobSecret = started.JobSecret };
    }

    /// <inheritdoc />
    /// <remarks>Every control needs the access token: TheEye takes none of them with a task secret key.</remarks>
    public IReadOnlySet<JobControl> Controls => _settings.AccessTokenSecretName is null ? NoControls : AllControls;

    /// <summary>Cancels a job (<c>PUT /{customer}/job/{id}/cancel</c>, answered 204); a task set not cancellable answers 403.</summary>
    public Task<JobControlOutcome> CancelJobAsync(string jobId, CancellationToken cancellationToken)
        => ControlAsync(JobControl.Cancel, jobId, body: null, cancellationToken);

    /// <summary>Approves an approval job (<c>PUT /{customer}/job/{id}/approve</c>, answered 204).</summary>
    public Task<JobControlOutcome> ApproveJobAsync(string jobId, CancellationToken cancellationToken)
        => ControlAsync(JobControl.Approve, jobId, body: null, cancellationToken);

    /// <summary>Rejects an approval job (<c>PUT /{customer}/job/{id}/reject</c>, answered 204).</summary>
    public Task<JobControlOutcome> RejectJobAsync(string jobId, CancellationToken cancellationToken)
        => ControlAsync(JobControl.Reject, jobId, body: null, cancellationToken);

    /// <summary>
    /// Restarts a completed script or Node.js job (<c>PUT /{customer}/job/{id}/restart</c>, answered 200) with the
    /// request's <c>task_arguments</c>, always sent, as a start sends them.
    /// </summary>
    public Task<JobControlOutcome> RestartJobAsync(string jobId, JobRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request is not TheEyeJobRequest job)
        {
            throw new ArgumentException($"TheEye platform '{Name}' restarts only TheEye jobs, not {request.GetType().Name}.", nameof(request));
        }

        var body = Encoding.UTF8.GetBytes(new JsonObject
        {
            ["task_arguments"] = new JsonArray([.. job.TaskArguments.Select(a => a?.DeepClone())]),
        }.ToJsonString());
        return ControlAsync(JobControl.Restart, jobId, body, cancellationToken);
    }

    /// <summary>
    /// Sends one lifecycle action with the access token, and reads the job right after. TheEye's refusals of the
    /// action itself (400, 403 once the token was accepted, 409) are answered as <see cref="JobControlOutcome.Refused"/>
    /// with TheEye's words; only a 401 is a refused credential, re-read once.
    /// </summary>
    private async Task<JobControlOutcome> ControlAsync(JobControl control, string jobId, byte[]? body, CancellationToken cancellationToken)
    {
        CheckJobId(jobId);
        var verb = JobControlNames.Of(control);
        if (_settings.AccessTokenSecretName is not { } tokenSecret)
        {
            return new JobControlOutcome.NotSupported(
                $"TheEye platform '{Name}' names no accessTokenSecret, and TheEye takes a job's {verb} only with an access token (a task secret key cannot {verb}): {verb} job {jobId} in TheEye itself, or give the platform an accessTokenSecret.");
        }

        var operation = verb + " job";
        var url = new Uri($"{_root}{Uri.EscapeDataString(_settings.Customer)}/job/{jobId}/{verb}");
        var kind = control == JobControl.Restart ? PlatformRequestKind.StartJob : PlatformRequestKind.Read;
        using (var answer = await SendAsync(kind, operation, tokenSecret, token =>
        {
            var message = new HttpRequestMessage(HttpMethod.Put, url);
            if (body is not null)
            {
                message.Content = new ByteArrayContent(body);
                message.Content.Headers.ContentType = JsonMediaType;
            }

            return Authorise(message, token);
        }, isAnswer: null, cancellationToken, refusesCredential: status => status == HttpStatusCode.Unauthorized))
        {
            if (!answer.Response.IsSuccessStatusCode)
            {
                var text = await answer.Response.Content.ReadAsStringAsync(cancellationToken);
                var status = (int)answer.Response.StatusCode;
                if (answer.Response.StatusCode is HttpStatusCode.BadRequest or HttpStatusCode.Forbidden or HttpStatusCode.Conflict)
                {
                    var error = Clean(TheEyeJob.Error(text), answer.Credential);
                    TheEyeLog.ControlRefused(_logger, Name, verb, jobId, status, error);
                    return new JobControlOutcome.Refused(status,
                        $"TheEye platform '{Name}' refused the {verb} of job {jobId} (HTTP {status}{(error is null ? string.Empty : ": " + error)}){RefusalHint(control, answer.Response.StatusCode)}.");
                }

                throw Failure(answer, text, operation, tokenSecret, jobId);
            }
        }

        TheEyeLog.ControlRequested(_logger, Name, verb, jobId);
        return new JobControlOutcome.Applied($"{verb} of job {jobId} requested", await GetJobStatusAsync(jobId, cancellationToken));
    }

    private static string RefusalHint(JobControl control, HttpStatusCode status) => (control, status) switch
    {
        (JobControl.Cancel, HttpStatusCode.Forbidden) => ": its task is set not cancellable (cancellable: false), which only a TheEye administrator's token overrides",
        (JobControl.Approve or JobControl.Reject, HttpStatusCode.Forbidden) => ": the access token's user is not one of the job's approvers",
        (JobControl.Approve or JobControl.Reject, HttpStatusCode.Conflict) => ": the job no longer waits for approval",
        (JobControl.Approve or JobControl.Reject, HttpStatusCode.BadRequest) => ": only approval jobs are approved or rejected",
        (JobControl.Restart, HttpStatusCode.BadRequest) => ": only completed script and Node.js jobs are restarted",
        _ => string.Empty,
    };

    public async Task<JobStatus> GetJobStatusAsync(string jobId, CancellationToken cancellationToken)
    {
        CheckJobId(jobId);

        TheEyeAnswer answer;
        string? secretName = null;
        if (_settings.AccessTokenSecretName is { } tokenSecret)
        {
            secretName = tokenSecret;
            var url = new Uri($"{_root}{Uri.EscapeDataString(_settings.Customer)}/job/{jobId}");
            answer = await SendAsync(PlatformRequestKind.Read, ReadOperation, tokenSecret, token => Authorise(new HttpRequestMessage(HttpMethod.Get, url), token), isAnswer: null, cancellationToken);
        }
        else if (await _jobSecrets.FindAsync(Name, jobId, cancellationToken) is { } known)
        {
            // The result route long-polls: 200 for success, 500 with the job for any other end, 303/408 while it runs.
            var url = new Uri($"{_root}job/{jobId}/secret/{Uri.EscapeDataString(known)}/result?full&timeout=1");
            var response = await _sender.SendAsync(PlatformRequestKind.Read, ReadOperation, () => Authorise(new HttpRequestMessage(HttpMethod.Get, url), null), cancellationToken,
                isAnswer: r => r.StatusCode is HttpStatusCode.InternalServerError or HttpStatusCode.RequestTimeout or HttpStatusCode.SeeOther);
            answer = new TheEyeAnswer(response, known);
        }
        else
        {
            throw new RelayException(RelayErrorKind.NotFound,
                $"The status of TheEye job {jobId} cannot be read: platform '{Name}' names no accessTokenSecret, and JobRelay has no record of starting this job (only then is its job secret known).")
            {
                Platform = Name,
            };
        }

        using (answer)
        {
            var text = await answer.Response.Content.ReadAsStringAsync(cancellationToken);
            if (answer.Response.StatusCode is HttpStatusCode.RequestTimeout or HttpStatusCode.SeeOther)
            {
                return TheEyeJob.Read(text)?.Status ?? new JobStatus(jobId, JobState.Running, "in_progress", false);
            }

            if (answer.Response.StatusCode == HttpStatusCode.InternalServerError && TheEyeJob.Read(text) is { } ended)
            {
                return ended.Status;
            }

            if (!answer.Response.IsSuccessStatusCode)
            {
                throw Failure(answer, text, ReadOperation, secretName, jobId);
            }

            var job = TheEyeJob.Read(text) ?? throw new RelayException(RelayErrorKind.InvalidPlatformResponse,
                $"TheEye platform '{Name}' answered the status request for job {jobId} with something that is not a job.")
            {
                Platform = Name,
                PlatformStatusCode = (int)answer.Response.StatusCode,
            };
            TheEyeLog.StatusRead(_logger, Name, job.Status.JobId, job.Status.RawStatus);
            return job.Status;
        }
    }

    private void CheckJobId(string jobId)
    {
        if (string.IsNullOrWhiteSpace(jobId) || jobId is "." or ".." || jobId.Any(c => !char.IsAsciiLetterOrDigit(c) && c != '-' && c != '_'))
        {
            throw new RelayException(RelayErrorKind.InvalidInput, $"'{jobId}' is not a TheEye job id.") { Platform = Name };
        }
    }

    private string CredentialSecret(TheEyeJobRequest job) => job.Authentication switch
    {
        TheEyeAuthentication.AccessToken => _settings.AccessTokenSecretName ?? throw new RelayException(RelayErrorKind.InvalidInput,
            $"Trigger '{job.Trigger}' uses an access token, but TheEye platform '{Name}' names no accessTokenSecret.") { Platform = Name },
        _ => job.SecretKeySecretName ?? throw new RelayException(RelayErrorKind.InvalidInput,
            $"Trigger '{job.Trigger}' uses a task secret key but names no secretKeySecret.") { Platform = Name },
    };

    private Uri StartUrl(TheEyeJobRequest job, string credential)
    {
        var customer = Uri.EscapeDataString(_settings.Customer);
        return job.Authentication switch
        {
            TheEyeAuthentication.SecretKey => new Uri($"{_root}job/secret/{Uri.EscapeDataString(credential)}?customer={customer}"),
            TheEyeAuthentication.TaskSecretKey => new Uri($"{_root}task/{Uri.EscapeDataString(job.TaskId)}/secret/{Uri.EscapeDataString(credential)}/job"),
            _ => new Uri($"{_root}job?customer={customer}"),
        };
    }

    private static HttpRequestMessage Authorise(HttpRequestMessage message, string? accessToken)
    {
        if (accessToken is not null)
        {
            message.Headers.Authorization = new AuthenticationHeaderValue("Bearer", accessToken);
        }

        message.Headers.Accept.Add(AcceptJson);
        return message;
    }

    private Task<TheEyeAnswer> SendAsync(
        PlatformRequestKind kind,
        string operation,
        string secretName,
        Func<string, HttpRequestMessage> createRequest,
        Func<HttpResponseMessage, bool>? isAnswer,
        CancellationToken cancellationToken,
        Func<HttpStatusCode, bool>? refusesCredential = null)
        => _secrets.UseWithRotationAsync(
            secretName,
            async (secret, ct) =>
            {
                var credential = secret.Value.Trim();
                if (credential.Length == 0 || credential.Any(c => c < 0x21 || c > 0x7e))
                {
                    throw new RelayException(RelayErrorKind.PlatformAuthenticationFailed,
                        $"Secret '{secretName}' of TheEye platform '{Name}' is empty or holds characters a URL or header cannot carry.") { Platform = Name };
                }

                var response = await _sender.SendAsync(kind, operation, () => createRequest(credential), ct, isAnswer);
                return new TheEyeAnswer(response, credential);
            },
            answer =>
            {
                var refused = refusesCredential?.Invoke(answer.Response.StatusCode)
                    ?? answer.Response.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden;
                if (refused)
                {
                    TheEyeLog.CredentialRefused(_logger, Name, secretName, operation, (int)answer.Response.StatusCode);
                }

                return refused;
            },
            cancellationToken);

    private RelayException Failure(TheEyeAnswer answer, string body, string operation, string? secretName, string? jobId)
    {
        var status = (int)answer.Response.StatusCode;
        var error = Clean(TheEyeJob.Error(body), answer.Credential);
        var detail = error is null ? string.Empty : ": " + error;
        TheEyeLog.Rejected(_logger, Name, operation, status, error);
        var (kind, message) = answer.Response.StatusCode switch
        {
            HttpStatusCode.Forbidden when error?.Contains("organization", StringComparison.OrdinalIgnoreCase) == true => (RelayErrorKind.PlatformRejected,
                $"TheEye platform '{Name}' refused the {operation} request (HTTP {status}{detail}): check the platform's customer '{_settings.Customer}'."),
            HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden => (RelayErrorKind.PlatformAuthenticationFailed,
                $"TheEye platform '{Name}' refused the credential in secret '{secretName}' for the {operation} request (HTTP {status}{detail}), also after re-reading it. "
                + "Check that it holds a valid access token of the organisation, or the task's current secret key."),
            HttpStatusCode.NotFound when jobId is not null => (RelayErrorKind.NotFound,
                $"TheEye platform '{Name}' has no job {jobId} (HTTP {status}{detail}); finished jobs are deleted after a while."),
            _ when status is >= 400 and < 500 => (RelayErrorKind.PlatformRejected,
                $"TheEye platform '{Name}' rejected the {operation} request with HTTP {status}{detail}."),
            _ => (RelayErrorKind.InvalidPlatformResponse,
                $"TheEye platform '{Name}' answered the {operation} request with the unexpected HTTP {status}{detail}."),
        };
        return new RelayException(kind, message) { Platform = Name, PlatformStatusCode = status };
    }

    private static string? Clean(string? text, string? credential)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }

        if (!string.IsNullOrEmpty(credential))
        {
            text = text.Replace(credential, "[redacted]", StringComparison.Ordinal);
        }

        text = text.Trim();
        return text.Length <= MaxErrorTextLength ? text : string.Concat(text.AsSpan(0, MaxErrorTextLength), "…");
    }

    private sealed class TheEyeAnswer(HttpResponseMessage response, string credential) : IDisposable
    {
        public HttpResponseMessage Response { get; } = response;

        public string Credential { get; } = credential;

        public void Dispose() => Response.Dispose();
    }
}

internal static partial class TheEyeLog
{
    [LoggerMessage(EventId = 1400, Level = LogLevel.Debug, Message = "Starting task {TaskId} on TheEye platform {Platform} for trigger {Trigger} ({Authentication})")]
    public static partial void Starting(ILogger logger, string platform, string trigger, string taskId, TheEyeAuthentication authentication);

    [LoggerMessage(EventId = 1401, Level = LogLevel.Debug, Message = "TheEye platform {Platform} started job {JobId} of task {TaskId} for trigger {Trigger} ({RawStatus})")]
    public static partial void Started(ILogger logger, string platform, string trigger, string taskId, string jobId, string rawStatus);

    [LoggerMessage(EventId = 1402, Level = LogLevel.Warning, Message = "TheEye platform {Platform} created job {JobId} of task {TaskId}, which ended at once ({RawStatus})")]
    public static partial void FailedAtOnce(ILogger logger, string platform, string taskId, string jobId, string rawStatus);

    [LoggerMessage(EventId = 1403, Level = LogLevel.Warning, Message = "TheEye platform {Platform} refused the credential in secret {SecretName} for {Operation} (HTTP {Status})")]
    public static partial void CredentialRefused(ILogger logger, string platform, string secretName, string operation, int status);

    [LoggerMessage(EventId = 1404, Level = LogLevel.Warning, Message = "TheEye platform {Platform} answered {Operation} with HTTP {Status}: {Error}")]
    public static partial void Rejected(ILogger logger, string platform, string operation, int status, string? error);

    [LoggerMessage(EventId = 1405, Level = LogLevel.Warning, Message = "TheEye platform {Platform} answered {Operation} with HTTP {Status} but not with a job")]
    public static partial void InvalidResponse(ILogger logger, string platform, string operation, int status);

    [LoggerMessage(EventId = 1407, Level = LogLevel.Information, Message = "TheEye platform {Platform}: {Control} of job {JobId} requested")]
    public static partial void ControlRequested(ILogger logger, string platform, string control, string jobId);

    [LoggerMessage(EventId = 1408, Level = LogLevel.Warning, Message = "TheEye platform {Platform} refused the {Control} of job {JobId} with HTTP {Status}: {Error}")]
    public static partial void ControlRefused(ILogger logger, string platform, string control, string jobId, int status, string? error);

    [LoggerMessage(EventId = 1406, Level = LogLevel.Debug, Message = "TheEye platform {Platform}: job {JobId} is {RawStatus}")]
    public static partial void StatusRead(ILogger logger, string platform, string jobId, string rawStatus);
}
