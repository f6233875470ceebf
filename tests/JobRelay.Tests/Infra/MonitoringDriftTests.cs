using System.Reflection;
using System.Text.Json;
using System.Text.RegularExpressions;
using JobRelay.Diagnostics;
using JobRelay.Runs;
using Microsoft.Extensions.Logging;

namespace JobRelay.Tests.Infra;

/// <summary>
/// What the deployment records and alerts on: resource logs into the workspace, the alert rules and their
/// recipient, and the host settings that keep the Keboola hook's query-string token out of telemetry.
/// </summary>
public partial class MonitoringDriftTests
{
    private const string Diagnostics = "infra/app/diagnostics.bicep";
    private const string Alerts = "infra/app/alerts.bicep";

    [Fact]
    public void KeyVaultAuditFunctionAppLogsAndStorageRequestLogsGoToTheWorkspace()
    {
        var settings = InfraFiles.Resources(Diagnostics).Where(r => r.Type == "Microsoft.Insights/diagnosticSettings").ToList();
        var existing = InfraFiles.Resources(Diagnostics).Where(r => r.Existing).ToDictionary(r => r.Symbol, r => r.Type, StringComparer.Ordinal);
        var text = InfraFiles.Read(Diagnostics);

        var categoriesByTarget = settings.ToDictionary(
            s => TargetType(Regex.Match(s.Body, @"scope:\s*(?<s>[\w:]+)").Groups["s"].Value),
            s => Categories(s.Body),
            StringComparer.Ordinal);

        Assert.All(settings, s => Assert.Matches(@"workspaceId:\s*workspace\.id", s.Body));
        Assert.Equal("Microsoft.OperationalInsights/workspaces", existing["workspace"]);
        Assert.Equal(["AuditEvent"], categoriesByTarget["Microsoft.KeyVault/vaults"]);
        Assert.Equal(["FunctionAppLogs"], categoriesByTarget["Microsoft.Web/sites"]);
        foreach (var service in new[] { "blobServices", "queueServices", "tableServices" })
        {
            Assert.Equal(["StorageDelete", "StorageRead", "StorageWrite"], categoriesByTarget[service]);
        }

        Assert.Equal(5, settings.Count);
        string TargetType(string scope) => scope.Contains("::", StringComparison.Ordinal)
            ? Regex.Match(text, $@"resource\s+{scope.Split("::")[1]}\s+'(?<t>\w+)'").Groups["t"].Value
            : existing[scope];
        string[] Categories(string body)
        {
            var storageLogsAt = text.IndexOf("var storageLogs = [", StringComparison.Ordinal);
            var source = body.Contains("logs: storageLogs", StringComparison.Ordinal)
                ? text[storageLogsAt..text.IndexOf("\n]\n", storageLogsAt, StringComparison.Ordinal)]
                : body;
            return Regex.Matches(source, @"category:\s*'(?<c>\w+)'").Select(m => m.Groups["c"].Value).Order(StringComparer.Ordinal).ToArray();
        }
    }

    [Fact]
    public void NoDiagnosticSettingCollectsTheHttpLogThatRecordsQueryStrings()
    {
        foreach (var file in InfraFiles.BicepFiles())
        {
            var code = string.Join('\n', InfraFiles.Read(file).Split('\n').Where(line => !line.TrimStart().StartsWith("//", StringComparison.Ordinal)));
            Assert.DoesNotContain("AppServiceHTTPLogs", code, StringComparison.Ordinal);
            Assert.DoesNotMatch(@"categoryGroup:\s*'(allLogs|audit)'", code);
        }
    }

    [Fact]
    public void EveryAlertRuleNotifiesTheActionGroupThatMailsTheAlertAddressParameter()
    {
        var text = InfraFiles.Read(Alerts);
        var group = Assert.Single(InfraFiles.Resources(Alerts), r => r.Type == "Microsoft.Insights/actionGroups");
        var rules = Assert.Single(InfraFiles.Resources(Alerts), r => r.Type == "Microsoft.Insights/scheduledQueryRules");

        Assert.Matches(@"emailAddress:\s*alertEmailAddress\b", group.Body);
        Assert.Matches(@"enabled:\s*true", group.Body);
        Assert.Matches(@"actionGroups:\s*\[\s*actionGroup\.id\s*\]", rules.Body);
        Assert.Matches(@"scopes:\s*\[\s*workspace\.id\s*\]", rules.Body);
        Assert.Matches(@"enabled:\s*true", rules.Body);
        Assert.Matches(@"for rule in rules:", text);
        Assert.Equal(["failed-job-starts", "key-vault-denied", "pending-start-backlog", "scheduler-lag", "scheduler-ticks-missing", "server-errors"], RuleNames(text));
        Assert.Matches(@"alertEmailAddress:\s*alertEmailAddress", InfraFiles.Read("infra/main.bicep"));
        Assert.DoesNotContain(InfraFiles.Parameters("infra/main.bicep"), p => p.Name == "alertEmailAddress" && p.Default is not null);
    }

    [Fact]
    public void TheFailedStartAlertMatchesTheEventsJobRelayLogsWhenAJobDoesNotStart()
    {
        var query = Query("failedJobStartsQuery");
        var alerted = Regex.Match(query, @"tostring\(Properties\.EventId\) in \((?<ids>[^)]*)\)").Groups["ids"].Value
            .Split(',').Select(id => int.Parse(id.Trim().Trim('"'), System.Globalization.CultureInfo.InvariantCulture)).Order().ToArray();

        var logged = typeof(TriggerRunner).Assembly.GetTypes()
            .SelectMany(type => type.GetMethods(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static))
            .Select(method => (method, attribute: method.GetCustomAttribute<LoggerMessageAttribute>()))
            .Where(pair => pair.attribute is not null && pair.method.Name is "JobNotStarted" or "StartFailed")
            .ToList();

        Assert.Equal(2, logged.Count);
        Assert.Equal(logged.Select(pair => pair.attribute!.EventId).Order().ToArray(), alerted);
        Assert.Contains(logged, pair => pair.method.Name == "StartFailed" && pair.method.GetParameters().Any(p => p.ParameterType == typeof(Exception)));
        Assert.Contains("union AppTraces, AppExceptions", query, StringComparison.Ordinal);
        var prefix = Regex.Match(query, @"startswith ""(?<p>[^""]+)""").Groups["p"].Value;
        Assert.All(logged, pair => Assert.StartsWith(prefix, pair.method.DeclaringType!.FullName!, StringComparison.Ordinal));
    }

    [Fact]
    public void TheServerErrorAndKeyVaultAlertsSearchTheTablesTheirLogsLandIn()
    {
        Assert.Matches(@"AppRequests\s*\n\|\s*where toint\(ResultCode\) >= 500", Query("serverErrorsQuery"));
        var vault = Query("keyVaultDeniedQuery");
        Assert.Contains("ResourceProvider == \"MICROSOFT.KEYVAULT\" and Category == \"AuditEvent\"", vault, StringComparison.Ordinal);
        Assert.Contains("httpStatusCode_d == 403", vault, StringComparison.Ordinal);
        Assert.Matches(@"skipQueryValidation:\s*true", InfraFiles.Read(Alerts));
    }

    [Fact]
    public void TheHostKeepsQueryStringsOutOfRequestTelemetryDependenciesAndRequestLogs()
    {
        using var host = JsonDocument.Parse(InfraFiles.Read("host.json"));
        var logging = host.RootElement.GetProperty("logging");
        var insights = logging.GetProperty("applicationInsights");
        var levels = logging.GetProperty("logLevel");

        Assert.False(insights.GetProperty("enableQueryStringTracing").GetBoolean());
        Assert.False(insights.GetProperty("enableDependencyTracking").GetBoolean());
        Assert.Equal("Warning", levels.GetProperty("Microsoft.AspNetCore").GetString());
        Assert.Equal("Warning", levels.GetProperty("default").GetString());
        Assert.DoesNotContain(levels.EnumerateObject(), level => level.Name.StartsWith("Microsoft", StringComparison.Ordinal) && level.Value.GetString() is "Trace" or "Debug" or "Information");
        Assert.Contains("Keeping the hook token out of logs", InfraFiles.Read("docs/deploy.md"), StringComparison.Ordinal);
    }

    [Fact]
    public void TheMetricAlertsSearchForInstrumentsTheEngineDefines()
    {
        var defined = typeof(RelayTelemetry).GetFields(System.Reflection.BindingFlags.Static | System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Public)
            .Select(field => field.GetValue(null))
            .OfType<System.Diagnostics.Metrics.Instrument>()
            .Select(instrument => instrument.Name)
            .ToHashSet(StringComparer.Ordinal);

        foreach (var (variable, metric) in new[] { ("pendingBacklogQuery", "jobrelay.runs.pending"), ("schedulerLagQuery", "jobrelay.scheduler.lag"), ("missingTicksQuery", "jobrelay.scheduler.ticks") })
        {
            var query = Query(variable);
            Assert.StartsWith("AppMetrics\n", query, StringComparison.Ordinal);
            Assert.Contains($"where Name == \"{metric}\"", query, StringComparison.Ordinal);
            Assert.Contains(metric, defined);
        }
    }

    [Fact]
    public void TheMissingTickAlertFiresOnAWindowWithoutTicksThatSpansAtLeastThreeTimerPeriods()
    {
        var text = InfraFiles.Read(Alerts);
        var rule = Regex.Match(text, @"name: 'scheduler-ticks-missing'(?<body>.*?)\n  \}", RegexOptions.Singleline).Groups["body"].Value;
        var window = Regex.Match(text, @"param schedulerTickWindow string = '(?<w>[^']+)'").Groups["w"].Value;
        var tick = Regex.Match(InfraFiles.Read("infra/main.bicep"), @"param schedulerTick string = '(?<t>[^']+)'").Groups["t"].Value;

        // The query must yield a row when the window holds no tick at all: a timer that never fires records nothing.
        Assert.Equal("AppMetrics\n| where Name == \"jobrelay.scheduler.ticks\"\n| summarize Ticks = count()\n| where Ticks == 0\n", Query("missingTicksQuery"));
        Assert.Matches(@"windowSize:\s*schedulerTickWindow", rule);
        Assert.Matches(@"windowSize:\s*rule\.windowSize", text);
        Assert.Contains("#11828", rule, StringComparison.Ordinal);
        Assert.Equal("0 * * * * *", tick);
        Assert.True(System.Xml.XmlConvert.ToTimeSpan(window) >= 3 * TimeSpan.FromMinutes(1) && System.Xml.XmlConvert.ToTimeSpan(window) >= TimeSpan.FromMinutes(5), window);
        Assert.Contains("azure-functions-host", InfraFiles.Read("docs/deploy.md"), StringComparison.Ordinal);
        Assert.Contains("#11828", InfraFiles.Read("docs/deploy.md"), StringComparison.Ordinal);
    }

    private static string Query(string variable)
    {
        var match = Regex.Match(InfraFiles.Read(Alerts), $@"var {variable} = '''\n(?<q>.*?)'''", RegexOptions.Singleline);
        Assert.True(match.Success, $"{Alerts} has no query {variable}.");
        return match.Groups["q"].Value;
    }

    private static string[] RuleNames(string text) =>
        Regex.Matches(text, @"(?m)^    name: '(?<n>[\w-]+)'$").Select(m => m.Groups["n"].Value).Order(StringComparer.Ordinal).ToArray();
}
