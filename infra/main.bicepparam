// The one parameters file of infra/main.bicep. azd compiles it (it prefers main.bicepparam over any
// main.parameters.json) with its environment's values as environment variables: AZURE_ENV_NAME, AZURE_LOCATION,
// AZURE_PRINCIPAL_ID (the signed-in principal) and whatever `azd env set` added. Without azd, export the same
// variables and pass this file to `az deployment sub create` (see docs/deploy.md).
// A variable read without a default stops the compile with its name when it is missing, rather than deploying a
// value nobody chose.
using 'main.bicep'

param environmentName = readEnvironmentVariable('AZURE_ENV_NAME')
param location = readEnvironmentVariable('AZURE_LOCATION')
param alertEmailAddress = readEnvironmentVariable('JOBRELAY_ALERT_EMAIL')

param vaultOperatorPrincipalId = readEnvironmentVariable('AZURE_PRINCIPAL_ID', '')
param vaultOperatorPrincipalType = readEnvironmentVariable('JOBRELAY_VAULT_OPERATOR_TYPE', 'User')
param grantVaultOperator = bool(readEnvironmentVariable('JOBRELAY_GRANT_VAULT_OPERATOR', 'true'))
param keyVaultPublicNetworkAccess = readEnvironmentVariable('JOBRELAY_KEY_VAULT_PUBLIC_ACCESS', 'Enabled')
param maximumInstanceCount = int(readEnvironmentVariable('JOBRELAY_MAX_INSTANCES', '40'))
param alwaysReadyInstanceCount = int(readEnvironmentVariable('JOBRELAY_ALWAYS_READY', '0'))
param httpPerInstanceConcurrency = int(readEnvironmentVariable('JOBRELAY_HTTP_CONCURRENCY', '16'))
