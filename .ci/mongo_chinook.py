"""Load shared/fixtures/chinook/ChinookData.json into the MongoDB database
`chinook` (drops it first, so every run starts from the same data).

Mapping, so that the documents hold the same data as the SQL fixtures:
- collections and fields keep the fixture's PascalCase names; the sole
  primary-key column of a table is stored as `_id` (PlaylistTrack has a
  composite key: an ObjectId `_id` plus a unique index);
- '' in the JSON is NULL in the SQL scripts (49 companies, 977 composers, ...):
  stored as null;
- money (UnitPrice, Total) as Decimal128 from the JSON number's shortest text;
- dates (InvoiceDate, BirthDate, HireDate) as BSON dates (UTC).
"""
import datetime
import json
import sys

import pymongo
from bson.decimal128 import Decimal128

url, path = sys.argv[1], sys.argv[2]
KEYS = {
    "Genre": "GenreId", "MediaType": "MediaTypeId", "Artist": "ArtistId",
    "Album": "AlbumId", "Track": "TrackId", "Employee": "EmployeeId",
    "Customer": "CustomerId", "Invoice": "InvoiceId",
    "InvoiceLine": "InvoiceLineId", "Playlist": "PlaylistId",
}
MONEY = {"UnitPrice", "Total"}
DATES = {"InvoiceDate", "BirthDate", "HireDate"}
INDEXES = {
    "Album": ["ArtistId"], "Track": ["AlbumId", "GenreId", "MediaTypeId"],
    "Customer": ["SupportRepId"], "Employee": ["ReportsTo"],
    "Invoice": ["CustomerId"], "InvoiceLine": ["InvoiceId", "TrackId"],
    "PlaylistTrack": ["TrackId"],
}

def convert(table, row):
    doc = {}
    key = KEYS.get(table)
    for k, v in row.items():
        if v == "":
            v = None
        elif k in MONEY and v is not None:
            v = Decimal128(repr(v))
        elif k in DATES and v is not None:
            v = datetime.datetime.fromisoformat(v)
        doc["_id" if k == key else k] = v
    return doc

data = json.load(open(path, encoding="utf-8"))
client = pymongo.MongoClient(url, serverSelectionTimeoutMS=10000)
db = client.get_default_database()
client.drop_database(db.name)
for table, rows in data.items():
    db[table].insert_many([convert(table, r) for r in rows], ordered=True)
    for f in INDEXES.get(table, []):
        db[table].create_index(f, name=f"{table}_{f}_idx")
db["PlaylistTrack"].create_index([("PlaylistId", 1), ("TrackId", 1)], unique=True,
                                 name="PlaylistTrack_pkey")
print(f"chinook loaded into MongoDB ({db.name}): {db['Track'].count_documents({})} tracks")
