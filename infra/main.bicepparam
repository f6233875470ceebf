// Parameters for a deployment without azd:
//   az deployment sub create --location <region> --template-file infra/main.bicep --parameters infra/main.bicepparam
// Values come from environment variables where one is set, so the same file serves every environment.
using 'main.bicep'

param environmentName = readEnvironmentVariable('JOBRELAY_ENV_NAME', 'jobrelay-dev')
param location = readEnvironmentVariable('JOBRELAY_LOCATION', 'swedencentral')

// Object id of whoever loads the platform tokens into the vault, e.g. `az ad signed-in-user show --query id -o tsv`.
param vaultOperatorPrincipalId = readEnvironmentVariable('JOBRELAY_VAULT_OPERATOR_ID', '')
param vaultOperatorPrincipalType = 'User'
param grantVaultOperator = true

param keyVaultPublicNetworkAccess = 'Enabled'
param catalogPath = 'triggers.json'
param schedulerTick = '0 * * * * *'
param schedulerTickInterval = '00:01:00'
param instanceMemoryMB = 2048
param maximumInstanceCount = 40
