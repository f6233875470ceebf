using System.Diagnostics;
using System.Net;
using JobRelay.Diagnostics;
using JobRelay.Model;
using Microsoft.Extensions.Logging;
using Polly;
using Polly.Retry;
using Polly.Timeout;

namespace JobRelay.Platforms;

/// <summary>What a request does on the platform, which decides what may be retried.</summary>
internal enum PlatformRequestKind
{
    /// <summary>Reads or repeatable commands: safe to send again after any failure.</summary>
    Read,

    /// <summary>
    /// Starts a job. Neither platform offers an idempotency key, so a second send of a request the platform may have
    /// received can start a second job: such a request is resent only when it provably never arrived.
    /// </summary>
    StartJob,
}

/// <summary>
/// Sends requests to one platform with a timeout on every attempt and on the whole call, and retries exactly the
/// failures that are safe to retry for the kind of request. Answers that are not transient failures (2xx, 3xx, 4xx
/// other than 429) are returned for the adapter to interpret; transient failures that outlast the retries, and
/// transport failures, become a <see cref="RelayException"/> whose message names the platform and the operation,
/// never an address.
/// </summary>
internal sealed class PlatformSender
{
    private static readonly ResiliencePropertyKey<Func<HttpResponseMessage, bool>?> IsAnswerKey = new("jobrelay.is-answer");
    private readonly HttpClient _http;
    private readonly string _platform;
    private readonly PlatformHttpOptions _options;
    private readonly ILogger _logger;
    private readonly ResiliencePipeline<HttpResponseMessage> _readPipeline;
    private readonly ResiliencePipeline<HttpResponseMessage> _startPipeline;

    public PlatformSender(HttpClient http, string platform, PlatformHttpOptions options, TimeProvider timeProvider, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(http);
        ArgumentException.ThrowIfNullOrEmpty(platform);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(timeProvider);
        ArgumentNullException.ThrowIfNull(logger);
        _http = http;
        _platform = platform;
        _options = options;
        _logger = logger;
        _readPipeline = BuildPipeline(PlatformRequestKind.Read, timeProvider);
        _startPipeline = BuildPipeline(PlatformRequestKind.StartJob, timeProvider);
    }

    public string Platform => _platform;

    /// <summary>
    /// Sends the request that <paramref name="createRequest"/> builds (once per attempt: a request message cannot be
    /// sent twice) and returns the platform's answer. The caller owns and disposes the response.
    /// </summary>
    /// <param name="kind">Whether the request starts a job (never resent once it may have arrived) or only reads.</param>
    /// <param name="operation">A short name for logs, traces and messages, such as <c>start job</c>.</param>
    /// <param name="isAnswer">Marks responses that are the platform's real answer even with a 429/5xx status
    /// (TheEye's result endpoint answers 500 for a job that ended in failure): they are returned, never retried.</param>
    public async Task<HttpResponseMessage> SendAsync(
        PlatformRequestKind kind,
        string operation,
        Func<HttpRequestMessage> createRequest,
        CancellationToken cancellationToken,
        Func<HttpResponseMessage, bool>? isAnswer = null)
    {
        ArgumentNullException.ThrowIfNull(createRequest);
        using var activity = RelayTelemetry.Source.StartActivity($"{_platform} {operation}", ActivityKind.Client);
        activity?.SetTag("jobrelay.platform", _platform);
        activity?.SetTag("jobrelay.operation", operation);

        var startedAt = Stopwatch.GetTimestamp();
        var outcome = "error";
        var attempt = new AttemptState();
        var pipeline = kind == PlatformRequestKind.StartJob ? _startPipeline : _readPipeline;
        var context = ResilienceContextPool.Shared.Get(cancellationToken);
        context.Properties.Set(IsAnswerKey, isAnswer);
        HttpResponseMessage response;
        try
        {
            response = await pipeline.ExecuteAsync(
                async (ctx, _) =>
                {
                    var token = ctx.CancellationToken;
                    using var request = createRequest();
                    attempt.CutOffWhileSending = false;
                    try
                    {
                        return await _http.SendAsync(request, HttpCompletionOption.ResponseContentRead, token);
                    }
                    catch (OperationCanceledException ex) when (!cancellationToken.IsCancellationRequested && ex.InnerException is TimeoutException && !token.IsCancellationRequested)
                    {
                        // The handler's ConnectTimeout: no connection, so not a byte of the request reached the platform.
                        throw new HttpRequestException(HttpRequestError.ConnectionError, $"The connection was not established within {_options.ConnectTimeout.TotalSeconds:0.###} s.", ex);
                    }
                    catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                    {
                        // A time budget, not the caller, ended this attempt: the platform may have the request.
                        attempt.CutOffWhileSending = true;
                        throw;
                    }
                },
                context,
                this);
        }
        catch (TimeoutRejectedException ex)
        {
            outcome = "timeout";
            activity?.SetStatus(ActivityStatusCode.Error, "timeout");
            throw TimedOut(kind, operation, attempt.CutOffWhileSending, ex);
        }
        catch (HttpRequestException ex) when (!cancellationToken.IsCancellationRequested)
        {
            outcome = "transport";
            activity?.SetStatus(ActivityStatusCode.Error, "transport");
            throw TransportFailed(kind, operation, ex);
        }
        finally
        {
            ResilienceContextPool.Shared.Return(context);
            if (outcome != "error")
            {
                RecordDuration(operation, outcome, startedAt);
            }
        }

        RecordDuration(operation, StatusClass(response.StatusCode), startedAt);
        activity?.SetTag("http.response.status_code", (int)response.StatusCode);
        if ((IsTransientStatus(response.StatusCode) || (int)response.StatusCode >= 500) && isAnswer?.Invoke(response) != true)
        {
            activity?.SetStatus(ActivityStatusCode.Error, ((int)response.StatusCode).ToString(System.Globalization.CultureInfo.InvariantCulture));
            using (response)
            {
                throw FailedWithStatus(kind, operation, response);
            }
        }

        return response;
    }

    private void RecordDuration(string operation, string outcome, long startedAt)
        => RelayTelemetry.PlatformDuration.Record(Stopwatch.GetElapsedTime(startedAt).TotalSeconds, new TagList
        {
            { "jobrelay.platform", _platform },
            { "jobrelay.operation", operation },
            { "jobrelay.outcome", outcome },
        });

    private static string StatusClass(HttpStatusCode status) => (int)status switch
    {
        < 300 => "2xx",
        < 400 => "3xx",
        < 500 => "4xx",
        _ => "5xx",
    };

    private ResiliencePipeline<HttpResponseMessage> BuildPipeline(PlatformRequestKind kind, TimeProvider timeProvider)
    {
        var builder = new ResiliencePipelineBuilder<HttpResponseMessage> { TimeProvider = timeProvider }
            .AddTimeout(_options.TotalTimeout);
        if (_options.MaxRetries > 0)
        {
            builder.AddRetry(new RetryStrategyOptions<HttpResponseMessage>
            {
                MaxRetryAttempts = _options.MaxRetries,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = _options.RetryBaseDelay,
                MaxDelay = _options.MaxRetryAfter,
                ShouldHandle = args => ValueTask.FromResult(ShouldRetry(kind, args.Outcome, args.Context)),
                DelayGenerator = args => ValueTask.FromResult(RetryAfter(args.Outcome.Result)),
                OnRetry = args =>
                {
                    PlatformLog.Retrying(_logger, _platform, kind, args.AttemptNumber + 1, Describe(args.Outcome), (long)args.RetryDelay.TotalMilliseconds);
                    return ValueTask.CompletedTask;
                },
            });
        }

        return builder.AddTimeout(_options.AttemptTimeout).Build();
    }

    private bool ShouldRetry(PlatformRequestKind kind, Outcome<HttpResponseMessage> outcome, ResilienceContext context)
    {
        if (outcome.Exception is not null)
        {
            return outcome.Exception switch
            {
                HttpRequestException ex when NeverReachedPlatform(ex) => true,

                // The request may have been sent and processed: only a read may go again.
                HttpRequestException or TimeoutRejectedException => kind == PlatformRequestKind.Read,
                _ => false,
            };
        }

        if (context.Properties.GetValue(IsAnswerKey, null)?.Invoke(outcome.Result!) == true)
        {
            return false;
        }

        var status = outcome.Result!.StatusCode;
        if (IsTransientStatus(status))
        {
            // 429 and 503 say the platform refused the request without acting on it; honour its wait if bearable.
            var retryAfter = RetryAfter(outcome.Result);
            return retryAfter is null || retryAfter <= _options.MaxRetryAfter;
        }

        return kind == PlatformRequestKind.Read && ((int)status >= 500 || status == HttpStatusCode.RequestTimeout);
    }

    private static bool IsTransientStatus(HttpStatusCode status)
        => status is HttpStatusCode.TooManyRequests or HttpStatusCode.ServiceUnavailable;

    /// <summary>Failures before a single request byte could have been read by the platform.</summary>
    private static bool NeverReachedPlatform(HttpRequestException exception) => exception.HttpRequestError is
        HttpRequestError.NameResolutionError or
        HttpRequestError.ConnectionError or
        HttpRequestError.SecureConnectionError or
        HttpRequestError.ProxyTunnelError;

    private static TimeSpan? RetryAfter(HttpResponseMessage? response)
    {
        var header = response?.Headers.RetryAfter;
        if (header is null)
        {
            return null;
        }

        if (header.Delta is { } delta)
        {
            return delta < TimeSpan.Zero ? TimeSpan.Zero : delta;
        }

        if (header.Date is { } date)
        {
            var wait = date - (response!.Headers.Date ?? DateTimeOffset.UtcNow);
            return wait < TimeSpan.Zero ? TimeSpan.Zero : wait;
        }

        return null;
    }

    private static string Describe(Outcome<HttpResponseMessage> outcome) => outcome.Exception switch
    {
        HttpRequestException ex => $"transport error {ex.HttpRequestError}",
        TimeoutRejectedException => "attempt timed out",
        { } ex => ex.GetType().Name,
        null => $"HTTP {(int)outcome.Result!.StatusCode}",
    };

    private RelayException TimedOut(PlatformRequestKind kind, string operation, bool cutOffWhileSending, TimeoutRejectedException ex)
    {
        if (kind == PlatformRequestKind.StartJob && cutOffWhileSending)
        {
            PlatformLog.OutcomeUnknown(_logger, _platform, operation, "timed out after sending");
            return new RelayException(
                RelayErrorKind.OutcomeUnknown,
                $"Platform '{_platform}' did not answer the {operation} request in time after it was sent. The job may or may not have been created: check the platform before starting it again.",
                ex)
            { Platform = _platform };
        }

        if (kind == PlatformRequestKind.StartJob)
        {
            return new RelayException(
                RelayErrorKind.PlatformUnavailable,
                $"Platform '{_platform}' refused the {operation} request until its time budget of {_options.TotalTimeout.TotalSeconds:0.#} s ran out; no job was started.",
                ex)
            { Platform = _platform };
        }

        return new RelayException(
            RelayErrorKind.Timeout,
            $"Platform '{_platform}' did not answer the {operation} request within {_options.TotalTimeout.TotalSeconds:0.#} s.",
            ex)
        { Platform = _platform };
    }

    private RelayException TransportFailed(PlatformRequestKind kind, string operation, HttpRequestException ex)
    {
        if (kind == PlatformRequestKind.StartJob && !NeverReachedPlatform(ex))
        {
            PlatformLog.OutcomeUnknown(_logger, _platform, operation, ex.HttpRequestError.ToString());
            return new RelayException(
                RelayErrorKind.OutcomeUnknown,
                $"The connection to platform '{_platform}' broke during the {operation} request ({ex.HttpRequestError}). The job may or may not have been created: check the platform before starting it again.",
                ex)
            { Platform = _platform };
        }

        return new RelayException(
            RelayErrorKind.PlatformUnavailable,
            $"Platform '{_platform}' could not be reached for the {operation} request ({ex.HttpRequestError}).",
            ex)
        { Platform = _platform };
    }

    private RelayException FailedWithStatus(PlatformRequestKind kind, string operation, HttpResponseMessage response)
    {
        var status = (int)response.StatusCode;
        var retryAfter = RetryAfter(response);
        if (kind == PlatformRequestKind.StartJob && !IsTransientStatus(response.StatusCode))
        {
            PlatformLog.OutcomeUnknown(_logger, _platform, operation, $"HTTP {status}");
            return new RelayException(
                RelayErrorKind.OutcomeUnknown,
                $"Platform '{_platform}' answered the {operation} request with HTTP {status}. The job may or may not have been created: check the platform before starting it again.")
            { Platform = _platform, PlatformStatusCode = status };
        }

        return new RelayException(
            RelayErrorKind.PlatformUnavailable,
            $"Platform '{_platform}' is unavailable: the {operation} request was answered with HTTP {status} after every retry.")
        { Platform = _platform, PlatformStatusCode = status, RetryAfter = retryAfter };
    }

    private sealed class AttemptState
    {
        public volatile bool CutOffWhileSending;
    }
}

internal static partial class PlatformLog
{
    [LoggerMessage(EventId = 1200, Level = LogLevel.Warning, Message = "Retrying {Kind} request to platform {Platform}, attempt {Attempt}, after {Reason}; waiting {DelayMs} ms")]
    public static partial void Retrying(ILogger logger, string platform, PlatformRequestKind kind, int attempt, string reason, long delayMs);

    [LoggerMessage(EventId = 1201, Level = LogLevel.Error, Message = "The outcome of {Operation} on platform {Platform} is unknown ({Reason}); it was not resent because a second send could start a second job")]
    public static partial void OutcomeUnknown(ILogger logger, string platform, string operation, string reason);
}
