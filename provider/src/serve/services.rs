//! go-plugin's own services.

use std::pin::Pin;

use hybrid_proto::plugin::{self as gp, grpc_broker_server, grpc_controller_server, grpc_stdio_server};
use tokio::sync::{mpsc, watch};
use tokio_stream::wrappers::ReceiverStream;
use tokio_stream::{Stream, StreamExt};
use tonic::{Request, Response, Status, Streaming};

/// `Shutdown` asks the plugin to exit: stop serving and let `serve` return.
pub struct Controller {
    pub shutdown: watch::Sender<bool>,
}

#[tonic::async_trait]
impl grpc_controller_server::GrpcController for Controller {
    async fn shutdown(&self, _: Request<gp::Empty>) -> Result<Response<gp::Empty>, Status> {
        tracing::debug!("shutdown requested by Terraform");
        let _ = self.shutdown.send(true);
        Ok(Response::new(gp::Empty {}))
    }
}

/// Our stdout/stderr are not redirected through gRPC (logs go straight to stderr, which
/// Terraform reads), so the stream stays open and empty until shutdown.
pub struct Stdio {
    pub shutdown: watch::Receiver<bool>,
}

type BoxStream<T> = Pin<Box<dyn Stream<Item = Result<T, Status>> + Send>>;

#[tonic::async_trait]
impl grpc_stdio_server::GrpcStdio for Stdio {
    type StreamStdioStream = BoxStream<gp::StdioData>;

    async fn stream_stdio(&self, _: Request<()>) -> Result<Response<Self::StreamStdioStream>, Status> {
        let mut shutdown = self.shutdown.clone();
        let (tx, rx) = mpsc::channel::<Result<gp::StdioData, Status>>(1);
        tokio::spawn(async move {
            let _ = shutdown.wait_for(|s| *s).await;
            drop(tx);
        });
        Ok(Response::new(Box::pin(ReceiverStream::new(rx))))
    }
}

/// Terraform providers never open broker connections; the stream ends when the client's does.
pub struct Broker;

#[tonic::async_trait]
impl grpc_broker_server::GrpcBroker for Broker {
    type StartStreamStream = BoxStream<gp::ConnInfo>;

    async fn start_stream(
        &self,
        req: Request<Streaming<gp::ConnInfo>>,
    ) -> Result<Response<Self::StartStreamStream>, Status> {
        let mut incoming = req.into_inner();
        let (tx, rx) = mpsc::channel::<Result<gp::ConnInfo, Status>>(1);
        tokio::spawn(async move {
            while let Some(Ok(_)) = incoming.next().await {}
            drop(tx);
        });
        Ok(Response::new(Box::pin(ReceiverStream::new(rx))))
    }
}
