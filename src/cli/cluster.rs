//! Connecting to a cluster as kubectl does: `--kubeconfig F`, else `KUBECONFIG` (several files
//! merged), else `~/.kube/config`, else the in-cluster service account (see
//! [`crate::incluster`]: its directory can be moved with `CETUS_SERVICEACCOUNT_DIR`);
//! `--context C` picks a context of the kubeconfig.

use super::Failure;
use kube::config::{KubeConfigOptions, Kubeconfig, KubeconfigError};
use std::path::PathBuf;

/// The cluster flags shared by the commands that talk to one.
#[derive(Debug, Clone, clap::Args)]
pub struct ClusterArgs {
    /// The kubeconfig file (else `KUBECONFIG`, else `~/.kube/config`, else in-cluster).
    #[arg(long, value_name = "FILE")]
    pub kubeconfig: Option<PathBuf>,
    /// The kubeconfig context to use (else its current context).
    #[arg(long, value_name = "NAME")]
    pub context: Option<String>,
}

impl ClusterArgs {
    /// A client for the cluster these flags name.
    pub async fn client(&self) -> Result<kube::Client, Failure> {
        let config = self.config().await?;
        kube::Client::try_from(config)
            .map_err(|e| Failure::io(format!("kube client: {}", chain(&e))))
    }

    /// An engine for the cluster these flags name (discovery done).
    pub async fn engine(&self) -> Result<crate::engine::Engine, Failure> {
        let options = crate::engine::EngineOptions::default();
        crate::engine::Engine::new(self.client().await?, options)
            .await
            .map_err(|e| Failure::io(chain(&e)))
    }

    /// The client configuration for the cluster these flags name.
    pub async fn config(&self) -> Result<kube::Config, Failure> {
        let options = KubeConfigOptions { context: self.context.clone(), ..Default::default() };
        let config = match &self.kubeconfig {
            Some(path) => {
                let kubeconfig = Kubeconfig::read_from(path)
                    .map_err(|e| Failure::io(format!("{}: {}", path.display(), chain(&e))))?;
                kube::Config::from_custom_kubeconfig(kubeconfig, &options).await
            }
            None => kube::Config::from_kubeconfig(&options).await,
        };
        let config = match config {
            Ok(config) => config,
            // No kubeconfig anywhere: inside a pod, the service account is the way in.
            Err(KubeconfigError::FindPath | KubeconfigError::ReadConfig(..))
                if self.kubeconfig.is_none() && self.context.is_none() =>
            {
                let settings = crate::incluster::InCluster::from_env();
                let config = settings.config().map_err(|e| {
                    Failure::io(format!(
                        "no kubeconfig found (--kubeconfig, KUBECONFIG, ~/.kube/config) and not in a cluster: {}",
                        chain(&e)
                    ))
                })?;
                tracing::info!(server = %config.cluster_url, account = %settings.dir.display(), "no kubeconfig: using the in-cluster service account");
                config
            }
            Err(e) => return Err(Failure::io(format!("kubeconfig: {}", chain(&e)))),
        };
        Ok(config)
    }
}

/// An error and its causes (see [`crate::error_chain`]).
pub fn chain(error: &dyn std::error::Error) -> String {
    crate::error_chain(error)
}
