"""A client written the way the Keras REST API tutorial's client is: `requests` posts the raw
bytes in `files={"image": ...}` (no filename, no content type of its own), then reads `success`
and `predictions`. Used by test/contract/python-client.test.ts to prove that such a client works
against specserve unchanged. Usage: python3 keras_rest_client.py URL IMAGE_PATH"""
import sys

import requests

url, image_path = sys.argv[1], sys.argv[2]
image = open(image_path, "rb").read()
r = requests.post(url, files={"image": image}).json()
if r["success"]:
    for (i, result) in enumerate(r["predictions"]):
        print("{}. {}: {:.4f}".format(i + 1, result["label"], result["probability"]))
else:
    print("Request failed")
