// The alerts a person running JobRelay wants mailed to them, each a log search over the workspace every five
// minutes: a job that was not started (a webhook, chain or schedule that reached JobRelay but produced no job),
// answers with a 5xx status, Key Vault refusing a request, and, from the worker's OpenTelemetry metrics (AppMetrics),
// starts left pending through a whole window and scheduled starts running late. The queries do not depend on a table existing
// yet (Key Vault's audit rows arrive only after its first request), so validation at creation is skipped.

param workspaceName string
param location string
param tags object

@description('Address that receives every alert.')
param alertEmailAddress string

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

var rules = [
  {
    name: 'failed-job-starts'
    displayName: 'JobRelay: a job was not started'
    description: 'JobRelay logged a trigger whose job did not start (refused by the platform, unreachable platform, or a failed scheduled start).'
    severity: 2
    query: failedJobStartsQuery
  }
  {
    name: 'server-errors'
    displayName: 'JobRelay: 5xx answers'
    description: 'The function app answered at least one request with a 5xx status.'
    severity: 2
    query: serverErrorsQuery
  }
  {
    name: 'key-vault-denied'
    displayName: 'JobRelay: Key Vault access denied'
    description: 'Key Vault refused a request with 403: a missing role assignment, or someone probing the vault.'
    severity: 1
    query: keyVaultDeniedQuery
  }
  {
    name: 'pending-start-backlog'
    displayName: 'JobRelay: starts stay pending'
    description: 'Every sweep in the window found pending starts the platform still did not take: the jobs are late and will be refused at their deadline.'
    severity: 2
    query: pendingBacklogQuery
  }
  {
    name: 'scheduler-lag'
    displayName: 'JobRelay: scheduled starts run late'
    description: 'A scheduled occurrence started more than two minutes after its due time.'
    severity: 3
    query: schedulerLagQuery
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
      windowSize: 'PT5M'
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
