import os, yaml as y
from PIL import (Image,
  ImageDraw)
from . import x
from google.protobuf import json_format
