"""
PyTorch's compute alone for `npm run bench:compute`: the Python peer's CNN (server.py, same
weights), 1 thread, batch sizes from argv[1] (comma-separated), argv[2] seconds each, on the
same preprocessed input repeated. Prints one JSON line: [{batchSize, imagesPerSec, msPerBatch}].
"""
import json
import sys
import time

import torch

from server import model

torch.set_num_threads(1)
sizes = [int(s) for s in sys.argv[1].split(",")]
seconds = float(sys.argv[2])
out = []
with torch.no_grad():
    for n in sizes:
        x = torch.rand(n, 1, 28, 28, generator=torch.Generator().manual_seed(1))
        for _ in range(5):
            model(x)
        calls, started = 0, time.perf_counter()
        while calls < 5 or time.perf_counter() - started < seconds:
            model(x).numpy()
            calls += 1
        ms = (time.perf_counter() - started) * 1000 / calls
        out.append({"batchSize": n, "imagesPerSec": n * 1000 / ms, "msPerBatch": ms})
print(json.dumps(out))
