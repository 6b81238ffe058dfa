// Tests exercise many refused requests on purpose; keep their warnings out of the output.
process.env.LOG_LEVEL ??= 'error';
