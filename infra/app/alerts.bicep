// The alerts a person running JobRelay wants mailed to them, each a log search over the workspace every five
// minutes: a job that was not started (a webhook, chain or schedule that reached JobRelay but produced no job),
// answers with a 5xx status, Key Vault refusing a request, and, from the worker's OpenTelemetry metrics (AppMetrics),
// starts left pending through a whole window, scheduled starts running late, and a Scheduler that recorded no tick in
// its window (fifteen minutes by default). The queries do not depend on a table existing yet (Key Vault's audit rows
// arrive only after its first request), so validation at creation is skipped.

param workspaceName string
param location string
param tags object

@description('Address that receives every alert.')
param alertEmailAddress string

@description('The window in which at least one Scheduler tick must be recorded: at least three periods of the timer\'s schedule (schedulerTick), and no shorter than the five minutes between evaluations.')
param schedulerTickWindow string = 'PT15M'

resource workspace 'Microsoft.OperationalInsights/workspaces@2025-02-01' existing = {
  name: workspaceName
}

resource actionGroup 'Microsoft.Insights/actionGroups@2023-01-01' = {
  name: 'ag-${workspaceName}'
  location: 'global'
  tags: tags
  properties: {
    groupShortName: 'jobrelay'
    enabled: true
    emailReceivers: [
      {
        name: 'operator'
        emailAddress: alertEmailAddress
        useCommonAlertSchema: true
      }
    ]
  }
}

// TriggerRunner's JobNotStarted (a start the platform refused or that could not be sent) and ScheduleDispatcher's
// StartFailed (a scheduled start that threw). The second is logged with its exception, so it lands in AppExceptions.
var failedJobStartsQuery = '''
union AppTraces, AppExceptions
| where tostring(Properties.CategoryName) startswith "JobRelay."
| where tostring(Properties.EventId) in ("1001", "1301")
'''

var serverErrorsQuery = '''
AppRequests
| where toint(ResultCode) >= 500
'''

var keyVaultDeniedQuery = '''
AzureDiagnostics
| where ResourceProvider == "MICROSOFT.KEYVAULT" and Category == "AuditEvent"
| where httpStatusCode_d == 403
'''

// The sweep reports the pending starts it found due and could not send; a backlog that never drops to zero in the
// window means a platform has refused or been unreachable for that long, while each delivery was already answered 202.
var pendingBacklogQuery = '''
AppMetrics
| where Name == "jobrelay.runs.pending"
| summarize Lowest = min(Min) by AppRoleInstance
| where Lowest > 0
'''

// A scheduled occurrence started more than two minutes after it was due: the timer, the store or the platform lags.
var schedulerLagQuery = '''
AppMetrics
| where Name == "jobrelay.scheduler.lag"
| where Max > 120
'''

// Each Scheduler tick adds one to the jobrelay.scheduler.ticks counter. An alert on late starts never fires when the
// timer itself stops, since nothing then runs late: this one fires on the ticks' absence, when the whole window holds
// none (a summary over no rows is one row with a count of 0). Flex Consumption timers are reported to stop firing
// after deployments (Azure/azure-functions-host#11828).
var missingTicksQuery = '''
AppMetrics
| where Name == "jobrelay.scheduler.ticks"
| summarize Ticks = count()
| where Ticks == 0
'''

var rules = [
  {
    name: 'failed-job-starts'
    displayName: 'JobRelay: a job was not started'
    description: 'JobRelay logged a trigger whose job did not start (refused by the platform, unreachable platform, or a failed scheduled start).'
    severity: 2
    query: failedJobStartsQuery
    windowSize: 'PT5M'
  }
  {
    name: 'server-errors'
    displayName: 'JobRelay: 5xx answers'
    description: 'The function app answered at least one request with a 5xx status.'
    severity: 2
    query: serverErrorsQuery
    windowSize: 'PT5M'
  }
  {
    name: 'key-vault-denied'
    displayName: 'JobRelay: Key Vault access denied'
    description: 'Key Vault refused a request with 403: a missing role assignment, or someone probing the vault.'
    severity: 1
    query: keyVaultDeniedQuery
    windowSize: 'PT5M'
  }
  {
    name: 'pending-start-backlog'
    displayName: 'JobRelay: starts stay pending'
    description: 'Every sweep in the window found pending starts the platform still did not take: the jobs are late and will be refused at their deadline.'
    severity: 2
    query: pendingBacklogQuery
    windowSize: 'PT5M'
  }
  {
    name: 'scheduler-lag'
    displayName: 'JobRelay: scheduled starts run late'
    description: 'A scheduled occurrence started more than two minutes after its due time.'
    severity: 3
    query: schedulerLagQuery
    windowSize: 'PT5M'
  }
  {
    name: 'scheduler-ticks-missing'
    displayName: 'JobRelay: the scheduler stopped ticking'
    description: 'No Scheduler tick was recorded in the window: schedules, pending starts and the sweep are not running. Flex Consumption timers are reported to stop after deployments (azure-functions-host #11828): restart the function app.'
    severity: 1
    query: missingTicksQuery
    windowSize: schedulerTickWindow
  }
]

resource alertRules 'Microsoft.Insights/scheduledQueryRules@2026-03-01' = [
  for rule in rules: {
    name: '${rule.name}-${workspaceName}'
    location: location
    tags: tags
    properties: {
      displayName: rule.displayName
      description: rule.description
      severity: rule.severity
      enabled: true
      scopes: [
        workspace.id
      ]
      evaluationFrequency: 'PT5M'
      windowSize: rule.windowSize
      skipQueryValidation: true
      autoMitigate: true
      criteria: {
        allOf: [
          {
            query: rule.query
            timeAggregation: 'Count'
            operator: 'GreaterThan'
            threshold: 0
            failingPeriods: {
              numberOfEvaluationPeriods: 1
              minFailingPeriodsToAlert: 1
            }
          }
        ]
      }
      actions: {
        actionGroups: [
          actionGroup.id
        ]
      }
    }
  }
]
