// Tests exercise many refused requests on purpose; keep their warnings out of the output.
process.env.LOG_LEVEL ??= 'error';
// A server process a test spawns must not take TF Serving's fixed gRPC port (8500): several test
// files, and other checkouts, run at once. A test that wants gRPC sets GRPC_PORT itself.
process.env.GRPC_PORT ??= '0';
