"""Word pools for the fictional town of Nembridge (postcode area NB).

Kept apart from the generators so a reviewer can check in one place that no real venue chain,
brand or person is named. Everything here is invented or a common word; real pub chains and
shop brands are deliberately absent (tests check a list of them).
"""

from __future__ import annotations

TOWN = "Nembridge"

# Partner (local-authority) areas: fictional codes in an unused E06 range.
LADS: tuple[tuple[str, str], ...] = (
    ("E06990001", "Nembridge"),
    ("E06990002", "Sallowmere and Fennick"),
)

# name, outcode, lad_code, easting, northing, number of LSOAs, number of streets
LOCALITIES: tuple[tuple[str, str, str, int, int, int, int], ...] = (
    ("Town Centre", "NB1", "E06990001", 320400, 180400, 7, 40),
    ("Castlegate", "NB1", "E06990001", 319900, 180950, 5, 26),
    ("Quayside", "NB1", "E06990001", 321000, 179950, 5, 24),
    ("Millbrook", "NB2", "E06990001", 318800, 182800, 8, 17),
    ("Ashcombe", "NB2", "E06990001", 320300, 184300, 7, 16),
    ("Kilnworth", "NB6", "E06990001", 320600, 176200, 8, 17),
    ("Southgate", "NB6", "E06990001", 319700, 177900, 7, 16),
    ("Harrowdene", "NB7", "E06990001", 316600, 178400, 8, 16),
    ("Pellingford", "NB7", "E06990001", 314200, 179700, 6, 14),
    ("Weyholme", "NB8", "E06990001", 316200, 181900, 7, 15),
    ("Oakhurst", "NB8", "E06990001", 317300, 183900, 6, 14),
    ("Fennick", "NB3", "E06990002", 323800, 183600, 8, 17),
    ("Corvedge", "NB3", "E06990002", 325200, 182100, 7, 16),
    ("Sallowmere", "NB4", "E06990002", 326500, 179800, 8, 17),
    ("Eastmoor", "NB4", "E06990002", 324200, 180300, 6, 15),
    ("Thornleigh", "NB5", "E06990002", 323600, 176800, 7, 16),
    ("Brackenhurst", "NB5", "E06990002", 325900, 175800, 6, 14),
    ("Greyfriars Heath", "NB9", "E06990002", 327800, 185200, 6, 14),
    ("Upper Tolland", "NB9", "E06990002", 328700, 181100, 6, 14),
)

# Streets every town has; given to the town centre first so "high st" means one place.
CENTRE_STREETS = (
    "High Street", "Market Street", "Castle Street", "Bridge Street", "Quay Street",
    "Church Street", "St Marys Street", "Station Road", "Wharf Road", "Chapel Street",
    "Bank Street", "Union Street", "Queen Street", "Kings Road", "Market Square Walk",
    "Tannery Lane", "Cooper Street", "Weavers Row", "Friars Walk", "Granary Lane",
)

STREET_BASES = (
    "Alder", "Elm", "Oak", "Birch", "Hazel", "Rowan", "Willow", "Beech", "Cedar", "Chestnut",
    "Larch", "Poplar", "Holly", "Laurel", "Maple", "Yew", "Hawthorn", "Juniper", "Linden",
    "Sycamore", "Victoria", "Albert", "Windsor", "Clarence", "Regent", "Wellington", "Nelson",
    "Gladstone", "Stanley", "Tudor", "Mill", "School", "Park", "Meadow", "Orchard", "Brook",
    "Spring", "Well", "Hill", "Vale", "Glen", "Dale", "Moor", "Heath", "Green", "Grange", "Manor",
    "Priory", "Abbey", "Forge", "Foundry", "Kiln", "Potters", "Smithy", "Malthouse", "Brewery",
    "Canal", "River", "Ferry", "Lock", "Weir", "Cross", "Tolland", "Fennick", "Corvedge",
    "Sallow", "Thornleigh", "Ashcombe", "Harrow", "Pelling", "Weyholme", "Oakhurst",
    "Greyfriars", "Bracken", "Kestrel", "Heron", "Swallow", "Lark", "Finch", "Plover", "Curlew",
    "Lapwing", "Bluebell", "Primrose", "Foxglove", "Clover", "Heather", "Thistle", "Fern",
    "Ivy", "Rosemary", "Lavender", "Orchid", "Ridge", "Summit", "Valley", "Crofton", "Hamlet",
    "Cottage", "Barn", "Paddock", "Stable", "Wheatfield", "Barley", "Copse", "Warren", "Burrow",
    "Lantern", "Beacon", "Anchor", "Harbour", "Tide", "Shore", "Prospect", "Providence",
    "Hope", "Unity", "Temperance", "Jubilee", "Coronation", "Empire", "Milton", "Byron",
    "Shelley", "Keats", "Tennyson", "Chaucer", "Brunel", "Telford", "Stephenson", "Darwin",
    "Faraday", "Newton", "Herschel", "Fairfax", "Cromwell", "Lancaster", "Percival",
)
SAINTS = (
    "St Johns", "St Peters", "St Andrews", "St Davids", "St Georges", "St Lukes", "St Pauls",
    "St Michaels", "St Annes", "St Margarets", "St Marks", "St Hildas", "St Aidans",
)
STREET_SUFFIXES = (
    ("Street", 18), ("Road", 30), ("Avenue", 10), ("Lane", 12), ("Close", 12), ("Way", 6),
    ("Terrace", 5), ("Crescent", 5), ("Place", 4), ("Drive", 5), ("Gardens", 3), ("Grove", 3),
)
# Names that deliberately repeat in two localities, as real towns do.
DUPLICATED_STREETS = ("Church Road", "Mill Lane", "Park Avenue", "Station Approach")

STREET_ABBREVIATIONS = {
    "Street": ("st", "st.", "str"), "Road": ("rd", "rd.", "road"), "Avenue": ("ave", "av"),
    "Lane": ("ln", "lane"), "Close": ("cl", "close"), "Way": ("way",), "Terrace": ("terr", "tce"),
    "Crescent": ("cres", "cresc"), "Place": ("pl", "place"), "Drive": ("dr", "drive"),
    "Gardens": ("gdns", "gardens"), "Grove": ("gr", "grove"), "Approach": ("app", "approach"),
    "Row": ("row",), "Walk": ("walk",), "Square": ("sq",),
}

PUB_ADJECTIVES = (
    "Copper", "Golden", "Silver", "Crooked", "Jolly", "Merry", "Wandering", "Sleeping",
    "Dancing", "Laughing", "Gilded", "Rusty", "Brass", "Iron", "Velvet", "Hidden", "Lazy",
    "Salty", "Wise", "Lucky", "Painted", "Hungry", "Tipsy", "Bold", "Honest", "Weary", "Patient",
    "Nimble", "Frozen", "Whistling", "Restless", "Humble", "Careful", "Thirsty", "Sunken",
)
PUB_NOUNS = (
    "Lantern", "Otter", "Heron", "Badger", "Hare", "Stag", "Anchor", "Barrel",
    "Tankard", "Compass", "Plough", "Harrow", "Wheel", "Pike", "Trout", "Wren", "Raven", "Magpie",
    "Ferret", "Kestrel", "Pheasant", "Acorn", "Thistle", "Bramble", "Mitre", "Shuttle", "Bobbin",
    "Loom", "Cask", "Tinker", "Drover", "Ferryman", "Boatman", "Lamplighter", "Miller",
    "Weaver", "Cobbler", "Hatter", "Thimble", "Bellows", "Sextant", "Quill", "Teapot", "Corkscrew",
    "Spinning Top", "Weathervane", "Millstone", "Wagon", "Oarsman",
)
BAR_WORDS = (
    "Lantern", "Ember", "Velvet", "Copper", "Indigo", "Saffron", "Juniper", "Nimbus", "Quarry",
    "Foundry", "Tannery", "Granary", "Bobbin", "Kiln", "Alder", "Marlin", "Tidewater", "Cobalt",
    "Ochre", "Umber", "Slate", "Hollow", "Harbour", "Wharf", "Orchard", "Meridian", "Lumen",
    "Parlour", "Vesper", "Aurora",
)
BAR_PATTERNS = ("{w} Rooms", "{w} Bar", "Bar {w}", "{w} Lounge", "{w} Tap", "{w} Social",
                "The {w} House", "{w} Cocktail Bar", "{w} & Co")
CLUB_NAMES = (
    "Club Nimbus", "The Vault", "Basement Nine", "Neon Yard", "Static", "Hangar 12",
    "The Engine Room", "Club Solace", "Velvet Underpass", "Mirrorball", "Sublevel", "The Loft",
    "Kinetic", "Electric Orchard", "Riverside Nightclub", "Club Castlegate",
)
TAKEAWAY_PATTERNS = (
    "{w} Kebab House", "{w} Pizza", "Golden {w} Chinese", "{w} Fish Bar", "{w} Fried Chicken",
    "{w} Grill", "{w} Noodle Bar", "{w} Balti House",
)
TAKEAWAY_WORDS = (
    "Ali's", "Sultan", "Aegean", "Dragon", "Lotus", "Castle", "Quayside", "Harbour", "Bosphorus",
    "Lucky Star", "Bamboo", "Jade", "Anatolia", "Sunrise", "Moonlight", "Olive", "Saffron",
    "Corner", "Station", "Market", "Bridge", "Millbrook", "Eastmoor", "Fennick",
)
# name -> aliases ("|"-separated); two brand-like traps: "Home..." and "House of..." are shops.
SHOPS = {
    "Homestyle Bargains": "Homestyle|home style bargains|homestyle shop",
    "House of Ferris": "Ferris|Ferris store|house of ferris shop",
    "Quayside Convenience Store": "quayside convenience|quayside shop",
    "Kilnworth Mini Market": "kilnworth mini mart|mini market kilnworth",
    "Nembridge Off Licence": "the offy|nembridge offie",
    "Castle Wines": "castle wines offy",
    "Fennick Pharmacy": "fennick chemist",
    "Thornleigh Stores": "thornleigh shop",
    "Pennywise Discount": "Pennywise|pennywise store",
    "Market Street Vapes": "vape shop market st",
    "Ashcombe Newsagents": "ashcombe paper shop",
    "Bridge Street Books": "the bookshop",
    "Corvedge Hardware": "corvedge diy",
    "Eastmoor Food and Wine": "eastmoor food & wine",
    "Sallowmere Superstore": "the superstore|sallowmere supermarket",
    "Lucky Numbers Betting": "Lucky Numbers|the bookies",
    "Quickfix Phones": "Quickfix|phone shop",
    "Harbour Outfitters": "harbour clothes shop",
    "Millbrook Post Office Stores": "millbrook post office",
    "Tolland Village Shop": "tolland shop",
}
OTHER_VENUES = {
    "Nembridge Leisure Centre": "leisure centre|the leisure",
    "Fennick Snooker Club": "snooker club|fennick snooker",
    "Castlegate Bowl": "the bowling alley|castlegate bowling",
    "Ironworks Gym": "Ironworks|ironworks fitness",
    "Quayside Hotel": "quayside hotel bar",
    "Millbrook Community Centre": "millbrook community centre hall",
    "Kilnworth Social Club": "kilnworth social|kilnworth club",
    "Eastmoor Boxing Gym": "boxing gym|eastmoor boxing",
    "Ashcombe Cricket Club": "ashcombe cricket|cricket club",
    "Nembridge Rugby Club": "rugby club|the rugby club",
    "Castlegate Bingo": "the bingo|castlegate bingo hall",
    "Riverside Marina": "the marina",
}
SPECIAL_PUBS = ("The White House", "The Copper Kettle", "The Nembridge Arms", "Café Alba")

FIRST_NAMES_MALE = (
    "James", "Oliver", "Jack", "Harry", "George", "Noah", "Charlie", "Jacob", "Thomas", "Oscar",
    "William", "Leo", "Daniel", "Liam", "Ryan", "Connor", "Kyle", "Jordan", "Lewis", "Callum",
    "David", "Mark", "Paul", "Steven", "Lee", "Craig", "Darren", "Jason", "Gareth", "Owen",
    "Rhys", "Dylan", "Ethan", "Mason", "Tyler", "Mohammed", "Adam", "Yusuf", "Jakub", "Tomasz",
    "Kieran", "Aaron", "Sean", "Nathan", "Joshua", "Samuel", "Reece", "Bradley", "Declan", "Ivan",
)
FIRST_NAMES_FEMALE = (
    "Olivia", "Amelia", "Isla", "Ava", "Emily", "Sophie", "Grace", "Chloe", "Lucy", "Ella",
    "Megan", "Jessica", "Holly", "Hannah", "Sarah", "Laura", "Rebecca", "Kelly", "Gemma",
    "Leanne", "Nicola", "Amy", "Zoe", "Aisha", "Priya", "Fatima", "Zainab", "Kasia", "Natalia",
    "Bethany", "Jade", "Paige", "Courtney", "Shannon", "Rachel", "Claire", "Joanne", "Karen",
    "Ruth", "Niamh",
)
SURNAMES = (
    "Smith", "Jones", "Williams", "Taylor", "Brown", "Davies", "Evans", "Wilson", "Thomas",
    "Johnson", "Roberts", "Robinson", "Thompson", "Wright", "Walker", "Edwards", "Hughes", "Hall",
    "Lewis", "Harris", "Clarke", "Patel", "Jackson", "Wood", "Turner", "Martin", "Cooper", "Hill",
    "Ward", "Morris", "Moore", "Clark", "Baker", "Harrison", "Morgan", "Allen", "Scott",
    "Phillips", "Davis", "Parker", "Price", "Bennett", "Young", "Griffiths", "Mitchell", "Kelly",
    "Cook", "Carter", "Richardson", "Bailey", "Collins", "Bell", "Shaw", "Murphy", "Miller", "Cox",
    "Richards", "Khan", "Marshall", "Anderson", "Simpson", "Ellis", "Adams", "Singh", "Begum",
    "Wilkinson", "Foster", "Chapman", "Powell", "Webb", "Rogers", "Gray", "Mason", "Ali", "Hunt",
    "Hussain", "Campbell", "Matthews", "Owen", "Palmer", "Holmes", "Mills", "Barnes", "Knight",
    "Lloyd", "Butler", "Russell", "Barker", "Fisher", "Stevens", "Jenkins", "Murray", "Dixon",
    "Harvey", "Kowalski", "Nowak", "Okafor", "Mensah", "Osei", "Rahman", "Chowdhury", "Nguyen",
    "Pritchard", "Llewellyn", "Quinlan", "Fairbrother", "Tolland", "Ashdown", "Brackley",
)
