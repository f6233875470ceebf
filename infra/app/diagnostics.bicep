// Diagnostic settings that send resource logs to the Log Analytics workspace: Key Vault's audit trail (who read
// which secret, and who was refused), the Functions host's FunctionAppLogs, and the storage account's blob, queue
// and table request logs. The App Service HTTP log category is left off on purpose: it records each request's
// query string, and the Keboola notification hook carries its token there (see docs/deploy.md).
// Microsoft.Insights/diagnosticSettings has no generally available version that targets a workspace, so the
// newest preview is used; the linter's advice of 2016-09-01 names an older, unrelated resource shape.

param workspaceName string
param keyVaultName string
param functionAppName string
param storageAccountName string

resource workspace 'Microsoft.OperationalInsights/workspaces@2025-02-01' existing = {
  name: workspaceName
}

resource vault 'Microsoft.KeyVault/vaults@2025-05-01' existing = {
  name: keyVaultName
}

resource functionApp 'Microsoft.Web/sites@2025-03-01' existing = {
  name: functionAppName
}

resource storage 'Microsoft.Storage/storageAccounts@2025-06-01' existing = {
  name: storageAccountName

  resource blobService 'blobServices' existing = {
    name: 'default'
  }

  resource queueService 'queueServices' existing = {
    name: 'default'
  }

  resource tableService 'tableServices' existing = {
    name: 'default'
  }
}

var storageLogs = [
  {
    category: 'StorageRead'
    enabled: true
  }
  {
    category: 'StorageWrite'
    enabled: true
  }
  {
    category: 'StorageDelete'
    enabled: true
  }
]

#disable-next-line use-recent-api-versions
resource vaultDiagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'to-log-analytics'
  scope: vault
  properties: {
    workspaceId: workspace.id
    logs: [
      {
        category: 'AuditEvent'
        enabled: true
      }
    ]
  }
}

#disable-next-line use-recent-api-versions
resource functionAppDiagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'to-log-analytics'
  scope: functionApp
  properties: {
    workspaceId: workspace.id
    logs: [
      {
        category: 'FunctionAppLogs'
        enabled: true
      }
    ]
  }
}

#disable-next-line use-recent-api-versions
resource blobDiagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'to-log-analytics'
  scope: storage::blobService
  properties: {
    workspaceId: workspace.id
    logs: storageLogs
  }
}

#disable-next-line use-recent-api-versions
resource queueDiagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'to-log-analytics'
  scope: storage::queueService
  properties: {
    workspaceId: workspace.id
    logs: storageLogs
  }
}

#disable-next-line use-recent-api-versions
resource tableDiagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'to-log-analytics'
  scope: storage::tableService
  properties: {
    workspaceId: workspace.id
    logs: storageLogs
  }
}
