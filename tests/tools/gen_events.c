/*
 * gen_events.c - a deterministic generator of realistic event months for
 * the shipped rules (rules/schema.dna, rules/sources.dna), as JSONL in the
 * canonical envelope of the architecture brief, one event per line:
 *
 *   {"id":"evt_42_17","type":"page_visit","source":"portal",
 *    "occurred_at":"2026-10-01T08:00:00Z",
 *    "subject":{"entity":"lead","portal_id":"p-1a2b3c4d"},
 *    "data":{"url":"/pricing","utm_campaign":"autumn-webinars"}}
 *
 * How a month is made:
 *  - N leads, each at a company (name, domain, size, country, region).
 *    Activity is Zipf-like over a seeded ranking of the leads: weight
 *    (rank + c)^-1.25, so a few leads are very active and most are seen a
 *    handful of times.  Each lead gets a share of the event budget and
 *    turns it into sessions (a visit of a few pages, a campaign mail and
 *    what the lead does with it, a form, a webinar, a CRM update, ...).
 *  - Session times are drawn with a weekday and working-hours bias in
 *    Europe/Berlin (the rules' time zone), daylight saving included.
 *  - Identities appear late: half of the leads start as anonymous portal
 *    visitors (subject portal_id only) and are revealed by a signup, a
 *    gated download or a form carrying portal_id and email together; some
 *    start as a LinkedIn profile (linkedin_url only) whose email arrives
 *    with a later reply; the rest are known by email.  crm_id is linked by
 *    the first contact_updated (crm_id + email); meetings then carry
 *    crm_id only, job changes linkedin_url only, as the source maps do.
 *  - A minority of leads get a deal (subject entity "deal", crm_deal_id)
 *    that moves through the stages and is won or lost; won deals are paid
 *    (payment_received, subject crm_deal_id + offer_id).
 *  - Events are sorted by occurred_at and numbered evt_<seed>_<n>.
 *    --late P delays the arrival of a fraction P of them (the line comes
 *    after lines with a later occurred_at); --bad P inserts bad lines
 *    (malformed JSON, unknown or missing type, wrong field type, bad time
 *    stamp, duplicate id, undeclared entity) between the good ones.  Good
 *    events are the same with and without --late/--bad: each option draws
 *    from its own random stream.
 *
 * Same arguments, same bytes, whatever the compiler or build type: the
 * random numbers come from xoshiro256** seeded by splitmix64 (one stream per
 * lead, so a lead's events do not depend on the leads before it), two
 * draws are never operands of one expression or arguments of one call
 * (their order would be the compiler's choice), floating point uses
 * + - * / and sqrt only (no libm transcendental functions, no FMA
 * contraction: see CMakeLists.txt), and every sort has a total order.
 *
 * JSON is written by hand (a string escaper and number/time printers)
 * rather than through jansson: building and dumping a jansson tree per
 * event is several times slower, and the benchmark file has a million
 * lines.  tests/tools/check_events.c parses every line back with jansson.
 */
#include "base/clock.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define NELEM(a) ((uint32_t)(sizeof(a) / sizeof *(a)))

/* ---- random numbers ------------------------------------------------------ */

typedef struct Rng { uint64_t s[4]; } Rng;

static uint64_t gen_splitmix(uint64_t *x)
{
    uint64_t z = (*x += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

static void gen_rng_seed(Rng *r, uint64_t seed, uint64_t stream)
{
    uint64_t x = seed ^ (stream * 0xD1B54A32D192ED03ULL);
    for (int i = 0; i < 4; i++) r->s[i] = gen_splitmix(&x);
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

static uint64_t gen_next(Rng *r)
{
    uint64_t *s = r->s, res = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
    s[2] ^= s[0]; s[3] ^= s[1]; s[1] ^= s[2]; s[0] ^= s[3];
    s[2] ^= t; s[3] = rotl(s[3], 45);
    return res;
}

/* uniform in [0, n) */
static uint32_t gen_below(Rng *r, uint32_t n)
{
    return n ? (uint32_t)(((gen_next(r) >> 32) * (uint64_t)n) >> 32) : 0;
}

static double gen_unit(Rng *r) { return (double)(gen_next(r) >> 11) * (1.0 / 9007199254740992.0); }
static int gen_chance(Rng *r, double p) { return gen_unit(r) < p; }

/* uniform in [lo, hi) for 64-bit spans */
static int64_t gen_range(Rng *r, int64_t lo, int64_t hi)
{
    return hi <= lo ? lo : lo + (int64_t)(gen_next(r) % (uint64_t)(hi - lo));
}

/* an index drawn by integer weights */
static uint32_t gen_pick(Rng *r, const uint16_t *w, uint32_t n)
{
    uint32_t total = 0;
    for (uint32_t i = 0; i < n; i++) total += w[i];
    uint32_t x = gen_below(r, total);
    for (uint32_t i = 0; i < n; i++) {
        if (x < w[i]) return i;
        x -= w[i];
    }
    return n - 1;
}

/* A bijection on 32 bits: distinct leads get distinct ids. */
static uint32_t gen_perm32(uint32_t x, uint32_t key)
{
    x ^= key;
    x *= 0x9E3779B1u; x ^= x >> 16;
    x *= 0x85EBCA6Bu; x ^= x >> 13;
    x *= 0xC2B2AE35u; x ^= x >> 16;
    return x;
}

static uint64_t gen_hash(uint64_t a, uint64_t b)
{
    uint64_t x = a ^ (b * 0x9E3779B97F4A7C15ULL);
    return gen_splitmix(&x);
}

/* ---- the world: names, companies, pages, campaigns ----------------------- */

typedef struct Name { const char *show, *ascii; } Name;

static const Name first_names[] = {
    {"Ada", "ada"}, {"Bo", "bo"}, {"Clara", "clara"}, {"David", "david"}, {"Elif", "elif"},
    {"Felix", "felix"}, {"Greta", "greta"}, {"Hannah", "hannah"}, {"Ivan", "ivan"},
    {"Jana", "jana"}, {"J\xc3\xbcrgen", "juergen"}, {"Katrin", "katrin"}, {"Lars", "lars"},
    {"Mia", "mia"}, {"Noah", "noah"}, {"Olga", "olga"}, {"Paul", "paul"}, {"Quentin", "quentin"},
    {"Rosa", "rosa"}, {"Sven", "sven"}, {"Tobias", "tobias"}, {"Ulrike", "ulrike"},
    {"Viktor", "viktor"}, {"Wen", "wen"}, {"Xavier", "xavier"}, {"Yusuf", "yusuf"}, {"Zoe", "zoe"},
    {"Am\xc3\xa9lie", "amelie"}, {"Bj\xc3\xb6rn", "bjoern"}, {"Chiara", "chiara"}, {"Dario", "dario"},
    {"Emma", "emma"}, {"Finn", "finn"}, {"Hiroshi", "hiroshi"}, {"Ingrid", "ingrid"},
    {"Jonas", "jonas"}, {"Kenji", "kenji"}, {"Lea", "lea"}, {"Marco", "marco"}, {"Nina", "nina"},
    {"Omar", "omar"}, {"Priya", "priya"}, {"Rafael", "rafael"}, {"Sofia", "sofia"},
    {"Thomas", "thomas"}, {"Ursula", "ursula"}, {"Valentina", "valentina"}, {"Wei", "wei"},
    {"Lukas", "lukas"}, {"Anna", "anna"}, {"Maximilian", "maximilian"}, {"Sophie", "sophie"},
    {"Leon", "leon"}, {"Marie", "marie"}, {"Elias", "elias"}, {"Laura", "laura"},
    {"Johannes", "johannes"}, {"Julia", "julia"}, {"Aisha", "aisha"}, {"Chen", "chen"},
};

static const Name last_names[] = {
    {"M\xc3\xbcller", "mueller"}, {"Schmidt", "schmidt"}, {"Schneider", "schneider"},
    {"Fischer", "fischer"}, {"Weber", "weber"}, {"Meyer", "meyer"}, {"Wagner", "wagner"},
    {"Becker", "becker"}, {"Schulz", "schulz"}, {"Hoffmann", "hoffmann"}, {"Koch", "koch"},
    {"Richter", "richter"}, {"Klein", "klein"}, {"Wolf", "wolf"}, {"Schr\303\266der", "schroeder"},
    {"Neumann", "neumann"}, {"Schwarz", "schwarz"}, {"Zimmermann", "zimmermann"},
    {"Braun", "braun"}, {"Kr\xc3\xbcger", "krueger"}, {"Hartmann", "hartmann"}, {"Lange", "lange"},
    {"Werner", "werner"}, {"Krause", "krause"}, {"Lehmann", "lehmann"},
    {"K\xc3\xb6hler", "koehler"}, {"Maier", "maier"}, {"Huber", "huber"}, {"Kaiser", "kaiser"},
    {"Rossi", "rossi"}, {"Bianchi", "bianchi"}, {"Dubois", "dubois"}, {"Martin", "martin"},
    {"Garc\303\255a", "garcia"}, {"Nov\xc3\xa1k", "novak"}, {"Kowalski", "kowalski"},
    {"Jensen", "jensen"}, {"Nielsen", "nielsen"}, {"Smith", "smith"}, {"Jones", "jones"},
    {"Taylor", "taylor"}, {"Brown", "brown"}, {"Tanaka", "tanaka"}, {"Sato", "sato"},
    {"Kim", "kim"}, {"Lee", "lee"}, {"Wang", "wang"}, {"Li", "li"}, {"Nakamura", "nakamura"},
    {"O'Brien", "obrien"}, {"van Dijk", "vandijk"}, {"de Vries", "devries"},
};

static const char *const co_prefix[] = {
    "Helix", "Nova", "Genom", "BioSyn", "Cellix", "Quanta", "Vireo", "Apex", "Lumen", "Aurora",
    "Cobalt", "Meridian", "Nordic", "Alpine", "Rhein", "Elbe", "Baltic", "Isar", "Atlas", "Orion",
    "Zephyr", "Vertex", "Sigma", "Pioneer", "Crescent", "Kestrel", "Tessera", "Lyra", "Solace",
    "Castor", "Saale", "Neckar", "Main", "Mosel", "Havel", "Spree",
};

typedef enum Industry { IND_PHARMA, IND_BIOTECH, IND_DIAG, IND_ACADEMIC, IND_CLINICAL, IND_AGRI, IND_OTHER } Industry;

static const struct { const char *show, *ascii; Industry ind; } co_suffix[] = {
    {" Pharma", "pharma", IND_PHARMA}, {" Biotech", "biotech", IND_BIOTECH},
    {" Diagnostics", "dx", IND_DIAG}, {" Therapeutics", "tx", IND_PHARMA},
    {" Labs", "labs", IND_BIOTECH}, {" Genomics", "genomics", IND_BIOTECH},
    {" Bio", "bio", IND_BIOTECH}, {" Clinical", "clinical", IND_CLINICAL},
    {" AgriScience", "agri", IND_AGRI}, {" Institute", "institute", IND_ACADEMIC},
    {" Research Center", "research", IND_ACADEMIC}, {" Health", "health", IND_CLINICAL},
    {" Sciences", "sciences", IND_OTHER}, {" Analytics", "analytics", IND_OTHER},
    {" & Partners", "partners", IND_OTHER},
};

typedef enum Region { REG_DACH, REG_EU, REG_US, REG_APAC } Region;
static const char *const region_names[] = { "DACH", "EU", "US", "APAC" };

static const struct { const char *cc, *tld, *phone, *currency; Region region; uint16_t weight; } countries[] = {
    {"DE", "de", "+49", "EUR", REG_DACH, 35}, {"CH", "ch", "+41", "CHF", REG_DACH, 8},
    {"AT", "at", "+43", "EUR", REG_DACH, 5}, {"FR", "fr", "+33", "EUR", REG_EU, 7},
    {"NL", "nl", "+31", "EUR", REG_EU, 6}, {"IT", "it", "+39", "EUR", REG_EU, 5},
    {"GB", "co.uk", "+44", "EUR", REG_EU, 6}, {"DK", "dk", "+45", "EUR", REG_EU, 3},
    {"SE", "se", "+46", "EUR", REG_EU, 3}, {"US", "com", "+1", "USD", REG_US, 15},
    {"JP", "jp", "+81", "EUR", REG_APAC, 3}, {"SG", "sg", "+65", "EUR", REG_APAC, 3},
    {"KR", "kr", "+82", "EUR", REG_APAC, 2}, {"AU", "com.au", "+61", "EUR", REG_APAC, 2},
};

static const char *const free_mail[] = { "gmail.com", "web.de", "gmx.de", "outlook.com", "t-online.de", "proton.me" };

typedef enum Interest { INT_RESEARCH, INT_B2B, INT_COCREATION } Interest;

/* seniority: the enum of lead.seniority, as the CRM sends it */
static const char *const seniorities[] = { "c_level", "vp", "director", "manager", "ic" };
static const char *const odd_seniorities[] = { "head_of", "intern", "Director" };  /* unknown to the rules */
static const char *const titles[][4] = {
    { "CEO", "Chief Scientific Officer", "CTO", "Managing Director" },
    { "VP Research", "VP R&D", "VP Business Development", "VP Genomics" },
    { "Director of Genomics", "Head of Bioinformatics", "Director Translational Science", "Head of Lab Operations" },
    { "Lab Manager", "Project Manager", "Procurement Manager", "Group Leader" },
    { "Research Scientist", "Postdoc", "Bioinformatician", "PhD Student" },
};

/* pages of the portal */
#define URLS(X) \
    X(U_HOME, "/", "Genomics services and research") \
    X(U_ABOUT, "/about", "About us") \
    X(U_CONTACT, "/contact", "Contact") \
    X(U_CAREERS, "/careers", "Careers") \
    X(U_BLOG, "/blog/", "Blog") \
    X(U_PUB, "/publications/", "Publications") \
    X(U_METHODS, "/methods/", "Methods") \
    X(U_WEBINARS, "/webinars", "Webinars") \
    X(U_PRICING, "/pricing", "Pricing") \
    X(U_ENTERPRISE, "/enterprise", "Enterprise sequencing") \
    X(U_SERVICES, "/services/", "Services") \
    X(U_COMPARE, "/compare/", "Compare") \
    X(U_CASES, "/case-studies/", "Case studies") \
    X(U_PARTNERS, "/partners", "Partners") \
    X(U_COCREATION, "/co-creation", "Co-creation") \
    X(U_COPROJECTS, "/co-creation/projects", "Co-creation projects")
#define X_ENUM(e, p, t) e,
typedef enum Url { URLS(X_ENUM) U__COUNT } Url;
#undef X_ENUM
#define X_PATH(e, p, t) p,
static const char *const url_paths[] = { URLS(X_PATH) };
#undef X_PATH
#define X_TITLE(e, p, t) t,
static const char *const url_titles[] = { URLS(X_TITLE) };
#undef X_TITLE

/* page weights per interest, in the order of URLS */
static const uint16_t url_weights[3][U__COUNT] = {
    /* research */   { 14, 3, 2, 1, 12, 28, 14, 6, 3, 1, 3, 1, 2, 2, 2, 1 },
    /* b2b */        { 14, 4, 4, 1, 6, 5, 3, 2, 16, 12, 12, 6, 8, 2, 2, 1 },
    /* co_creation */{ 14, 5, 3, 1, 6, 6, 3, 3, 5, 3, 4, 1, 4, 14, 16, 10 },
};

static const char *const slugs_blog[] = { "how-we-sequence", "data-privacy-in-genomics", "lab-automation-tips",
                                          "team-spotlight-bioinformatics", "long-read-vs-short-read" };
static const char *const slugs_pub[] = { "long-read-sequencing-benchmark-2026", "single-cell-atlas-liver",
                                         "crispr-screen-methods", "spatial-transcriptomics-review",
                                         "methylation-clocks", "rare-variant-calling" };
static const char *const slugs_methods[] = { "library-prep", "variant-calling-pipeline", "rna-seq-qc", "hi-c" };
static const char *const slugs_services[] = { "ngs-sequencing", "bioinformatics", "clinical-genomics", "single-cell" };
static const char *const slugs_compare[] = { "in-house-sequencing", "other-cros", "cloud-pipelines-alternative" };
static const char *const slugs_cases[] = { "pharma-biomarker-discovery", "agri-trait-mapping", "hospital-rare-disease" };
static const char *const referrers[] = { "https://www.google.com/", "https://www.linkedin.com/",
                                         "https://scholar.google.com/", "https://www.bing.com/",
                                         "https://pubmed.ncbi.nlm.nih.gov/" };
static const char *const utm_sources[] = { "newsletter", "linkedin", "google", "twitter" };

static const char *const papers[][2] = {
    { "Long-read sequencing benchmark 2026", "sequencing" },
    { "Single-cell atlas of the human liver", "single-cell" },
    { "CRISPR screens at scale", "functional-genomics" },
    { "Spatial transcriptomics: a review", "spatial" },
    { "Epigenetic clocks in practice", "epigenetics" },
    { "Whitepaper: outsourcing NGS in pharma R&D", NULL },
    { "Buyer's guide: choosing a sequencing partner", "procurement" },
};
static const char *const plans[] = { "free", "academic", "pro" };
static const char *const products[] = { "genome-browser", "variant-analysis", "lims-cloud", "single-cell-suite" };
static const char *const deal_products[] = { "NGS services", "single-cell package", "bioinformatics retainer",
                                             "clinical genomics panel", "co-creation project" };
static const char *const forms[] = { "contact", "newsletter", "partnership", "sample_request", "event-signup" };
static const uint16_t form_weights[3][5] = { { 10, 40, 4, 30, 16 }, { 40, 30, 6, 8, 16 }, { 20, 25, 40, 5, 10 } };
static const char *const messages[] = {
    "Please send us a quote for 96 samples.",
    "Can we talk about \"co-creation\" next week?",
    "We'd like to compare your pipeline with our in-house setup.",
    "Interested in a pilot project (Q1).",
    "Do you offer academic pricing?",
    "Bitte rufen Sie mich zur\303\274ck \342\200\223 danke!",
    "Looking for a partner for a 3-year research programme;\nbudget approved.",
};
static const char *const li_campaigns[] = { "li-research-q4", "li-pharma-leaders", "li-partner-outreach" };
static const char *const li_replies[] = { "Thanks for connecting!", "Sounds interesting, send me more details.",
                                          "Not right now, maybe next quarter.", "Happy to talk - how about Tuesday?" };
static const char *const meeting_kinds[] = { "demo", "discovery", "partnership", "intro", "follow_up" };
static const char *const stages[] = { "prospecting", "qualification", "discovery", "proposal",
                                      "negotiation", "commit", "closed_won", "closed_lost" };
static const char *const news_kinds[] = { "funding_round", "grant", "hiring", "tech_stack_change", "acquisition", "expansion" };
static const uint16_t news_weights[] = { 15, 12, 30, 15, 8, 20 };
static const char *const news_details[][2] = {
    { "Series B, EUR 40m", "Series A led by a life-science fund" },
    { "Horizon Europe grant", "DFG research grant" },
    { "12 open roles in bioinformatics", "new lab team in Berlin" },
    { "moved to a cloud LIMS", "new sequencing platform" },
    { "acquired a CRO", "merger announced" },
    { "new site in Boston", "opens an APAC office" },
};
static const char *const providers[] = { "g2", "bombora", "trustradius" };
static const char *const topics[] = { "ngs services", "single-cell sequencing", "sequencing provider alternative",
                                      "bioinformatics outsourcing", "clinical genomics", "lims alternative" };
static const char *const links[] = { "https://example.com/publications", "https://example.com/pricing",
                                     "https://example.com/webinars", "https://example.com/case-studies",
                                     "https://example.com/co-creation" };

/* campaigns of the email tool, sent on Tue/Thu 10:00 and Wed 14:00 Berlin */
static const char *const campaign_names[] = {
    "research-digest", "autumn-newsletter", "webinar-invite", "case-study-pharma",
    "pricing-update", "co-creation-call", "research-welcome", "top-papers", "b2b-welcome", "book-a-call",
};
static const char *const webinar_names[] = {
    "research methods: long-read sequencing", "partner day: co-creation projects",
    "single-cell for pharma R&D", "research spotlight: spatial omics",
};

/* ---- the event types ------------------------------------------------------ */

#define EVENT_TYPES(X) \
    X(PAGE_VISIT, "page_visit", "portal") \
    X(PORTAL_SIGNUP, "portal_signup", "portal") \
    X(PAPER_DOWNLOAD, "paper_download", "portal") \
    X(TRIAL_STARTED, "trial_started", "portal") \
    X(DEMO_REQUEST, "demo_request", "formtool") \
    X(FORM_SUBMIT, "form_submit", "formtool") \
    X(WEBINAR_REGISTERED, "webinar_registered", "formtool") \
    X(WEBINAR_ATTENDED, "webinar_attended", "formtool") \
    X(EMAIL_SENT, "email_sent", "emailtool") \
    X(EMAIL_OPEN, "email_open", "emailtool") \
    X(EMAIL_CLICK, "email_click", "emailtool") \
    X(EMAIL_REPLY, "email_reply", "emailtool") \
    X(EMAIL_BOUNCE, "email_bounce", "emailtool") \
    X(UNSUBSCRIBE, "unsubscribe", "emailtool") \
    X(LINKEDIN_CONNECT, "linkedin_connect", "linkedin") \
    X(LINKEDIN_REPLY, "linkedin_reply", "linkedin") \
    X(JOB_CHANGE, "job_change", "linkedin") \
    X(CONTACT_UPDATED, "contact_updated", "crm") \
    X(MEETING_SCHEDULED, "meeting_scheduled", "crm") \
    X(DEAL_CREATED, "deal_created", "crm") \
    X(DEAL_STAGE_CHANGED, "deal_stage_changed", "crm") \
    X(COMPANY_NEWS, "company_news", "crm") \
    X(INTENT_DATA, "intent_data", "crm") \
    X(PAYMENT_RECEIVED, "payment_received", "finance")

#define X_ENUM(e, n, s) E_##e,
typedef enum EvType { EVENT_TYPES(X_ENUM) E__COUNT } EvType;
#undef X_ENUM
#define X_NAME(e, n, s) n,
static const char *const type_names[] = { EVENT_TYPES(X_NAME) };
#undef X_NAME
#define X_SRC(e, n, s) s,
static const char *const type_sources[] = { EVENT_TYPES(X_SRC) };
#undef X_SRC

/* subject identifiers carried by an event */
enum { ID_EMAIL = 1, ID_PORTAL = 2, ID_LINKEDIN = 4, ID_CRM = 8, ID_DEAL = 16, ID_OFFER = 32 };

typedef struct Ev {
    int64_t t;                  /* occurred_at, ms */
    int64_t key;                /* output order (arrival) */
    uint32_t lead, gen, n;      /* lead index, generation order, id number */
    uint32_t a, b;              /* per-type parameters, see ev_data() */
    uint8_t type, ids;
} Ev;

typedef struct Company {
    char name[48], domain[48];
    uint8_t country, size;      /* size: 0 smb, 1 mid, 2 enterprise */
} Company;

enum { ARC_EMAIL, ARC_PORTAL, ARC_LINKEDIN };

typedef struct Lead {
    uint32_t company, quota;
    uint16_t first, last;
    uint8_t arc, interest, seniority;
    char email[96];
    double w;
} Lead;

typedef struct Opts {
    uint32_t leads, days;
    int64_t start;
    uint64_t seed;
    uint64_t events;            /* 0: from the density */
    double late, bad;
    const char *out;
    int quiet;
} Opts;

typedef struct Day { int64_t local_day; unsigned weekday; } Day;

typedef struct Gen {
    Opts o;
    int64_t start, end;
    const Zone *zone;
    Day *days; uint32_t ndays;
    int64_t *campaigns; uint32_t ncampaigns;    /* send times */
    int64_t *webinars; uint32_t nwebinars;      /* start times */
    Company *cos; uint32_t ncos;
    Lead *leads;
    Ev *ev; uint32_t nev, capev;
    uint32_t gen;
    double wmax;                /* the weight of the most active lead */
    int oom;
} Gen;

/* ---- time with a working-hours bias in Europe/Berlin --------------------- */

static const uint16_t weekday_weight[8] = { 0, 100, 110, 105, 100, 80, 18, 14 }; /* 1 = Monday */
static const uint16_t hour_weight[24] = { 2, 1, 1, 1, 1, 2, 5, 15, 45, 80, 95, 90,
                                          60, 70, 90, 90, 80, 55, 30, 20, 18, 15, 10, 5 };

static int64_t local_day_of(const Gen *g, int64_t utc)
{
    LocalTime lt;
    clk_local(g->zone, utc, &lt);
    return clk_days_from_civil(lt.year, lt.month, lt.day);
}

static int64_t at_local(const Gen *g, int64_t local_day, unsigned h, unsigned m)
{
    return clk_from_local(g->zone, local_day * CLK_DAY + (int64_t)h * CLK_HOUR + (int64_t)m * CLK_MINUTE);
}

/* A time in [lo, hi) with the weekday/hour bias; windows under six hours
 * are uniform.  Whole seconds. */
static int64_t gen_time(Gen *g, Rng *r, int64_t lo, int64_t hi)
{
    if (hi <= lo) return lo;
    if (hi - lo >= 6 * CLK_HOUR && g->ndays) {
        int64_t d0 = local_day_of(g, lo), d1 = local_day_of(g, hi - 1);
        uint32_t i0 = (uint32_t)(d0 - g->days[0].local_day), i1 = (uint32_t)(d1 - g->days[0].local_day);
        if (d0 >= g->days[0].local_day && i1 < g->ndays) {
            uint32_t total = 0;
            for (uint32_t i = i0; i <= i1; i++) total += weekday_weight[g->days[i].weekday];
            for (int tries = 0; tries < 12; tries++) {
                uint32_t x = gen_below(r, total), i = i0;
                while (x >= weekday_weight[g->days[i].weekday]) x -= weekday_weight[g->days[i++].weekday];
                uint32_t h = gen_pick(r, hour_weight, 24);
                int64_t t = clk_from_local(g->zone, g->days[i].local_day * CLK_DAY + (int64_t)h * CLK_HOUR +
                                                    (int64_t)gen_below(r, 3600) * CLK_SECOND);
                if (t >= lo && t < hi) return t;
            }
        }
    }
    int64_t t = gen_range(r, lo, hi);
    return t - t % CLK_SECOND < lo ? lo : t - t % CLK_SECOND;
}

/* a delay skewed towards short: lo + (hi-lo) * u1 * u2 */
static int64_t gen_delay(Rng *r, int64_t lo, int64_t hi)
{
    double u = gen_unit(r);
    u *= gen_unit(r);
    int64_t d = lo + (int64_t)((double)(hi - lo) * u);
    return d - d % CLK_SECOND;
}

/* ---- building the world ----------------------------------------------------- */

static int gen_world(Gen *g)
{
    /* local days covering the span, one either side */
    int64_t d0 = local_day_of(g, g->start) - 1, d1 = local_day_of(g, g->end) + 1;
    g->ndays = (uint32_t)(d1 - d0 + 1);
    g->days = calloc(g->ndays, sizeof *g->days);
    if (!g->days) return 0;
    for (uint32_t i = 0; i < g->ndays; i++) {
        int64_t ld = d0 + i;
        g->days[i].local_day = ld;
        g->days[i].weekday = (unsigned)(((ld % 7 + 7) % 7 + 3) % 7) + 1;   /* 1970-01-01 was a Thursday */
    }
    g->campaigns = calloc(g->ndays * 2, sizeof *g->campaigns);
    g->webinars = calloc(g->ndays, sizeof *g->webinars);
    if (!g->campaigns || !g->webinars) return 0;
    for (uint32_t i = 0; i < g->ndays; i++) {
        unsigned wd = g->days[i].weekday;
        int64_t t = 0;
        if (wd == 2 || wd == 4) t = at_local(g, g->days[i].local_day, 10, 0);
        if (wd == 3) t = at_local(g, g->days[i].local_day, 14, 0);
        if (t && t >= g->start && t < g->end) g->campaigns[g->ncampaigns++] = t;
        if (wd == 3) {
            t = at_local(g, g->days[i].local_day, 16, 0);
            if (t >= g->start && t < g->end) g->webinars[g->nwebinars++] = t;
        }
    }

    Rng r;
    gen_rng_seed(&r, g->o.seed, 1);
    g->ncos = g->o.leads / 4 < 30 ? 30 : g->o.leads / 4;
    g->cos = calloc(g->ncos, sizeof *g->cos);
    if (!g->cos) return 0;
    uint16_t cw[NELEM(countries)];
    for (uint32_t i = 0; i < NELEM(countries); i++) cw[i] = countries[i].weight;
    uint32_t np = NELEM(co_prefix), ns = NELEM(co_suffix);
    for (uint32_t i = 0; i < g->ncos; i++) {
        Company *c = &g->cos[i];
        uint32_t p = i % np, s = (i / np) % ns, k = i / (np * ns);
        c->country = (uint8_t)gen_pick(&r, cw, NELEM(countries));
        static const uint16_t size_w[3] = { 50, 30, 20 };
        c->size = (uint8_t)gen_pick(&r, size_w, 3);
        const char *tld = co_suffix[s].ind == IND_ACADEMIC && countries[c->country].region == REG_US
                              ? "edu" : countries[c->country].tld;
        char num[16] = "";
        if (k) snprintf(num, sizeof num, "%u", k + 1);
        snprintf(c->name, sizeof c->name, "%s%s%s%s", co_prefix[p], co_suffix[s].show, k ? " " : "", num);
        snprintf(c->domain, sizeof c->domain, "%s%s%s.%s", co_prefix[p], co_suffix[s].ascii, num, tld);
        for (char *q = c->domain; *q; q++)
            if (*q >= 'A' && *q <= 'Z') *q = (char)(*q - 'A' + 'a');
    }
    return 1;
}

/* emails must be unique: an open-addressing set of 64-bit hashes */
typedef struct HSet { uint64_t *slot; uint32_t cap; } HSet;

static uint64_t gen_strhash(const char *s)
{
    uint64_t h = 0xCBF29CE484222325ULL;
    while (*s) h = (h ^ (unsigned char)*s++) * 0x100000001B3ULL;
    return h | 1;
}

static int hset_add(HSet *h, uint64_t v)       /* 1 if new */
{
    for (uint32_t i = (uint32_t)v & (h->cap - 1);; i = (i + 1) & (h->cap - 1)) {
        if (h->slot[i] == v) return 0;
        if (!h->slot[i]) { h->slot[i] = v; return 1; }
    }
}

static int gen_leads(Gen *g)
{
    uint32_t n = g->o.leads;
    g->leads = calloc(n, sizeof *g->leads);
    uint32_t *rank = calloc(n, sizeof *rank);
    HSet hs = { NULL, 1 };
    while (hs.cap < n * 2) hs.cap <<= 1;
    hs.slot = calloc(hs.cap, sizeof *hs.slot);
    if (!g->leads || !rank || !hs.slot) { free(rank); free(hs.slot); return 0; }

    /* activity: a seeded ranking, weight (rank + c)^-1.25 */
    Rng r;
    gen_rng_seed(&r, g->o.seed, 2);
    for (uint32_t i = 0; i < n; i++) rank[i] = i;
    for (uint32_t i = n; i > 1; i--) {
        uint32_t j = gen_below(&r, i), t = rank[i - 1];
        rank[i - 1] = rank[j];
        rank[j] = t;
    }
    double c = n / 100 < 5 ? 5.0 : (double)(n / 100), total = 0;
    for (uint32_t i = 0; i < n; i++) {
        double x = (double)rank[i] + c;
        g->leads[i].w = 1.0 / (x * sqrt(sqrt(x)));
        total += g->leads[i].w;
    }
    g->wmax = 1.0 / (c * sqrt(sqrt(c)));
    double budget = g->o.events ? (double)g->o.events : 0.4 * n * g->o.days;

    uint16_t sen_w[5] = { 5, 10, 20, 30, 35 }, arc_w[3] = { 35, 50, 15 }, int_w[3] = { 45, 38, 17 };
    for (uint32_t i = 0; i < n; i++) {
        Lead *L = &g->leads[i];
        Rng lr;
        gen_rng_seed(&lr, g->o.seed, 0x100000000ULL + i);
        double e = budget * L->w / total;
        L->quota = (uint32_t)e + (gen_unit(&lr) < e - (double)(uint32_t)e);
        L->first = (uint16_t)gen_below(&lr, NELEM(first_names));
        L->last = (uint16_t)gen_below(&lr, NELEM(last_names));
        L->company = gen_below(&lr, g->ncos);
        L->arc = (uint8_t)gen_pick(&lr, arc_w, 3);
        L->interest = (uint8_t)gen_pick(&lr, int_w, 3);
        L->seniority = (uint8_t)gen_pick(&lr, sen_w, 5);
        const char *fa = first_names[L->first].ascii, *la = last_names[L->last].ascii;
        int freemail = gen_chance(&lr, 0.15);
        for (uint32_t k = 0;; k++) {
            char num[16] = "";
            if (freemail) snprintf(num, sizeof num, "%u", 10 + gen_below(&lr, 90) + 100 * k);
            else if (k) snprintf(num, sizeof num, "%u", k + 1);
            if (freemail)
                snprintf(L->email, sizeof L->email, "%s.%s%s@%s", fa, la, num, free_mail[gen_below(&lr, NELEM(free_mail))]);
            else if (k % 2 == 0 && k)
                snprintf(L->email, sizeof L->email, "%c.%s%s@%s", fa[0], la, num, g->cos[L->company].domain);
            else
                snprintf(L->email, sizeof L->email, "%s.%s%s@%s", fa, la, num, g->cos[L->company].domain);
            if (hset_add(&hs, gen_strhash(L->email))) break;
        }
    }
    free(rank);
    free(hs.slot);
    return 1;
}

/* ---- events of one lead ------------------------------------------------------ */

static Ev *ev_add(Gen *g, uint32_t lead, EvType type, int64_t t, unsigned ids, uint32_t a, uint32_t b)
{
    if (t < g->start || t >= g->end) return NULL;       /* outside the span: dropped */
    if (g->nev == g->capev) {
        uint32_t nc = g->capev ? g->capev * 2 : 4096;
        Ev *nv = realloc(g->ev, nc * sizeof *nv);
        if (!nv) { g->oom = 1; return NULL; }
        g->ev = nv;
        g->capev = nc;
    }
    Ev *e = &g->ev[g->nev++];
    memset(e, 0, sizeof *e);
    e->t = t;
    e->lead = lead;
    e->gen = g->gen++;
    e->type = (uint8_t)type;
    e->ids = (uint8_t)ids;
    e->a = a;
    e->b = b;
    return e;
}

/* What is known about a lead at a time: each link time is INT64_MAX until
 * the event that links it. */
typedef struct LeadState {
    int64_t email_at, portal_at, li_at, crm_at, blocked_at;
    uint32_t count;
    uint8_t signed_up, trialed, demoed;
} LeadState;

#define NEVER INT64_MAX

static int known(int64_t at, int64_t t) { return at <= t; }

/* n pages from t; returns the time of the last one */
static int64_t web_visit(Gen *g, Rng *r, uint32_t li, LeadState *st, int64_t t, unsigned ids_first, unsigned ids_rest)
{
    const Lead *L = &g->leads[li];
    uint32_t pages = 1 + gen_below(r, 3);
    if (gen_chance(r, 0.3)) pages += gen_below(r, 6);
    for (uint32_t p = 0; p < pages; p++) {
        uint32_t url = gen_pick(r, url_weights[L->interest], U__COUNT);
        uint32_t flags = 0;
        if (p == 0 && gen_chance(r, 0.25)) flags |= 1;          /* utm */
        if (p == 0 && gen_chance(r, 0.4)) flags |= 2;           /* referrer */
        if (gen_chance(r, 0.6)) flags |= 4;                     /* title */
        if (ev_add(g, li, E_PAGE_VISIT, t, p ? ids_rest : ids_first, url, flags)) st->count++;
        if (p + 1 < pages) t += gen_delay(r, 15 * CLK_SECOND, 8 * CLK_MINUTE);
    }
    return t;
}

static unsigned portal_ids(Rng *r, LeadState *st, int64_t t)
{
    if (!known(st->email_at, t)) return ID_PORTAL;
    if (!known(st->portal_at, t)) { st->portal_at = t; return ID_PORTAL | ID_EMAIL; }
    return gen_chance(r, 0.5) ? ID_PORTAL | ID_EMAIL : ID_PORTAL;
}

static uint32_t next_slot(const int64_t *slots, uint32_t n, int64_t t)
{
    uint32_t lo = 0, hi = n;            /* first slot >= t */
    while (lo < hi) {
        uint32_t mid = (lo + hi) / 2;
        if (slots[mid] < t) lo = mid + 1; else hi = mid;
    }
    return lo;
}

static void email_session(Gen *g, Rng *r, uint32_t li, LeadState *st, int64_t t)
{
    uint32_t c = next_slot(g->campaigns, g->ncampaigns, t);
    if (c >= g->ncampaigns) return;
    int64_t sent = g->campaigns[c] + gen_delay(r, 0, 25 * CLK_MINUTE);
    if (known(st->blocked_at, sent) || !known(st->email_at, sent)) return;
    if (ev_add(g, li, E_EMAIL_SENT, sent, ID_EMAIL, c, 0)) st->count++;
    if (gen_chance(r, 0.025)) {
        int hard = gen_chance(r, 0.5);
        int64_t t2 = sent + gen_delay(r, 5 * CLK_SECOND, 10 * CLK_MINUTE);
        if (ev_add(g, li, E_EMAIL_BOUNCE, t2, ID_EMAIL, c, (uint32_t)hard)) st->count++;
        if (hard && t2 < st->blocked_at) st->blocked_at = t2;
        return;
    }
    if (!gen_chance(r, 0.45)) return;
    int64_t open = sent + gen_delay(r, 2 * CLK_MINUTE, 36 * CLK_HOUR);
    if (ev_add(g, li, E_EMAIL_OPEN, open, ID_EMAIL, c, 0)) st->count++;
    if (gen_chance(r, 0.015)) {
        int64_t t2 = open + gen_delay(r, 20 * CLK_SECOND, 5 * CLK_MINUTE);
        if (ev_add(g, li, E_UNSUBSCRIBE, t2, ID_EMAIL, gen_chance(r, 0.8) ? c + 1 : 0, 0)) st->count++;
        if (t2 < st->blocked_at) st->blocked_at = t2;
        return;
    }
    if (gen_chance(r, 0.2) && ev_add(g, li, E_EMAIL_OPEN, open + gen_delay(r, CLK_HOUR, 48 * CLK_HOUR), ID_EMAIL, c, 0))
        st->count++;                                            /* opened again */
    if (gen_chance(r, 0.35)) {
        int64_t click = open + gen_delay(r, 10 * CLK_SECOND, 10 * CLK_MINUTE);
        if (ev_add(g, li, E_EMAIL_CLICK, click, ID_EMAIL, c, gen_below(r, NELEM(links)))) st->count++;
        if (gen_chance(r, 0.5) && known(st->portal_at, click))          /* the landing page */
            web_visit(g, r, li, st, click + 3 * CLK_SECOND, ID_PORTAL | ID_EMAIL, ID_PORTAL | ID_EMAIL);
    }
    if (gen_chance(r, 0.05) && ev_add(g, li, E_EMAIL_REPLY, open + gen_delay(r, 10 * CLK_MINUTE, 48 * CLK_HOUR), ID_EMAIL, c, 0))
        st->count++;
}

static void form_submit(Gen *g, Rng *r, uint32_t li, int64_t t, unsigned ids, LeadState *st, int reveal)
{
    const Lead *L = &g->leads[li];
    uint32_t f = reveal ? (gen_chance(r, 0.6) ? 1 : 0) : gen_pick(r, form_weights[L->interest], NELEM(forms));
    uint32_t flags = 0;
    if (gen_chance(r, 0.6)) flags |= 1;                          /* company */
    if (gen_chance(r, f == 0 ? 0.5 : 0.15)) flags |= 2;          /* phone */
    if (f != 1 && gen_chance(r, 0.4)) flags |= 4 | (gen_below(r, NELEM(messages)) << 3);
    if (ev_add(g, li, E_FORM_SUBMIT, t, ids, f, flags)) st->count++;
}

static void contact_update(Gen *g, Rng *r, uint32_t li, LeadState *st, int64_t t)
{
    /* flags: 1 first 2 last 4 title 8 seniority 16 phone 32 direct 64 region 128 odd seniority */
    uint32_t fl = 1 | 2;
    if (gen_chance(r, 0.7)) fl |= 4;
    if (gen_chance(r, 0.6)) fl |= 8;
    if ((fl & 8) && gen_chance(r, 0.05)) fl |= 128;
    if (gen_chance(r, 0.4)) fl |= 16;
    if (gen_chance(r, 0.15)) fl |= 32;
    if (gen_chance(r, 0.7)) fl |= 64;
    if (ev_add(g, li, E_CONTACT_UPDATED, t, ID_CRM | ID_EMAIL, gen_below(r, 4), fl)) {
        st->count++;
        if (t < st->crm_at) st->crm_at = t;
    }
}

static void meeting(Gen *g, Rng *r, uint32_t li, LeadState *st, int64_t t, uint32_t kind)
{
    int64_t starts = gen_time(g, r, t + 20 * CLK_HOUR, t + 8 * CLK_DAY);
    starts -= starts % (15 * CLK_MINUTE);
    if (ev_add(g, li, E_MEETING_SCHEDULED, t, ID_CRM, (uint32_t)((starts - t) / CLK_MINUTE), kind + 1)) st->count++;
}

static void li_reply(Gen *g, Rng *r, uint32_t li, LeadState *st, int64_t t, unsigned ids)
{
    uint32_t campaign = gen_below(r, NELEM(li_campaigns) + 1), message = 1 + gen_below(r, NELEM(li_replies));
    if (ev_add(g, li, E_LINKEDIN_REPLY, t, ids, campaign, message)) st->count++;
}

/* a session after the email is known.  (Random draws are never two
 * arguments of one call: C leaves their order to the compiler.) */
static void known_session(Gen *g, Rng *r, uint32_t li, LeadState *st, int64_t t)
{
    const Lead *L = &g->leads[li];
    enum { S_WEB, S_EMAIL, S_FORM, S_WEBINAR, S_LINKEDIN, S_CRM, S_OUTSIDE, S_DEMO, S_N };
    static const uint16_t w[3][S_N] = { { 34, 38, 6, 7, 4, 4, 4, 3 },
                                        { 34, 36, 6, 3, 4, 7, 5, 5 },
                                        { 32, 34, 8, 6, 7, 6, 4, 3 } };
    switch (gen_pick(r, w[L->interest], S_N)) {
    case S_WEB: {
        unsigned first = portal_ids(r, st, t), rest = portal_ids(r, st, t + 1);
        int64_t end = web_visit(g, r, li, st, t, first, rest);
        end += gen_delay(r, 20 * CLK_SECOND, 3 * CLK_MINUTE);
        unsigned both = ID_PORTAL | ID_EMAIL;
        if (L->interest == INT_RESEARCH && gen_chance(r, 0.25)) {
            if (ev_add(g, li, E_PAPER_DOWNLOAD, end, both, gen_below(r, NELEM(papers)), 0)) st->count++;
        } else if (L->interest == INT_B2B && !st->trialed && gen_chance(r, 0.06)) {
            st->trialed = 1;
            if (ev_add(g, li, E_TRIAL_STARTED, end, both, gen_below(r, NELEM(products)), 0)) st->count++;
        } else if (!st->signed_up && gen_chance(r, 0.08)) {
            st->signed_up = 1;
            if (ev_add(g, li, E_PORTAL_SIGNUP, end, both, gen_below(r, NELEM(plans) + 1), 0)) st->count++;
        }
        break;
    }
    case S_EMAIL:
        if (known(st->blocked_at, t)) {
            unsigned first = portal_ids(r, st, t), rest = portal_ids(r, st, t + 1);
            web_visit(g, r, li, st, t, first, rest);
        } else {
            email_session(g, r, li, st, t);
        }
        break;
    case S_FORM:
        form_submit(g, r, li, t, ID_EMAIL, st, 0);
        break;
    case S_WEBINAR: {
        uint32_t k = next_slot(g->webinars, g->nwebinars, t + CLK_HOUR);
        if (k >= g->nwebinars) { form_submit(g, r, li, t, ID_EMAIL, st, 0); break; }
        uint32_t which = k % NELEM(webinar_names);
        if (ev_add(g, li, E_WEBINAR_REGISTERED, t, ID_EMAIL, which, 0)) st->count++;
        if (gen_chance(r, 0.6)) {
            int64_t at = g->webinars[k] + gen_delay(r, 0, 12 * CLK_MINUTE);
            if (ev_add(g, li, E_WEBINAR_ATTENDED, at, ID_EMAIL, which, gen_chance(r, 0.85) ? 5 + gen_below(r, 56) : 0))
                st->count++;
        }
        break;
    }
    case S_LINKEDIN:
        if (!known(st->li_at, t)) {
            st->li_at = t;
            if (ev_add(g, li, E_LINKEDIN_CONNECT, t, ID_LINKEDIN | ID_EMAIL, gen_below(r, NELEM(li_campaigns) + 1), 0))
                st->count++;
        } else {
            unsigned ids = gen_chance(r, 0.5) ? ID_LINKEDIN | ID_EMAIL : ID_LINKEDIN;
            li_reply(g, r, li, st, t, ids);
        }
        break;
    case S_CRM:
        if (known(st->crm_at, t) && gen_chance(r, 0.5))
            meeting(g, r, li, st, t, gen_below(r, NELEM(meeting_kinds)));
        else
            contact_update(g, r, li, st, t);
        break;
    case S_OUTSIDE: {
        uint32_t x = gen_below(r, 10);
        if (x < 4) {
            uint32_t k = gen_pick(r, news_weights, NELEM(news_weights));
            if (ev_add(g, li, E_COMPANY_NEWS, t, ID_EMAIL, k, gen_below(r, 3))) st->count++;
        } else if (x < 8 || !known(st->li_at, t)) {
            uint32_t provider = gen_below(r, NELEM(providers)), topic = gen_below(r, NELEM(topics));
            if (ev_add(g, li, E_INTENT_DATA, t, ID_EMAIL, provider, topic)) st->count++;
        } else {
            uint32_t company = gen_below(r, g->ncos), title = gen_below(r, 5 * 4 + 1);
            if (ev_add(g, li, E_JOB_CHANGE, t, ID_LINKEDIN, company, title)) st->count++;
        }
        break;
    }
    case S_DEMO:
        if (!st->demoed && L->interest != INT_RESEARCH) {
            st->demoed = 1;
            uint32_t product = gen_chance(r, 0.6) ? 1 + gen_below(r, NELEM(products)) : 0;
            uint32_t message = gen_chance(r, 0.5) ? 1 + gen_below(r, NELEM(messages)) : 0;
            if (ev_add(g, li, E_DEMO_REQUEST, t, ID_EMAIL, product, message)) st->count++;
        } else {
            form_submit(g, r, li, t, ID_EMAIL, st, 0);
        }
        break;
    }
}

/* A deal from first meeting to payment.  Stages advance every 1-3 working
 * days; a deal may be lost at any step. */
static void deal(Gen *g, Rng *r, uint32_t li, LeadState *st)
{
    int64_t lo = st->email_at + CLK_DAY, hi = g->start + (g->end - g->start) * 35 / 100;
    if (lo < g->start) lo = g->start;
    if (hi <= lo) hi = g->end - 3 * CLK_DAY;
    if (hi <= lo) return;
    int64_t t = gen_time(g, r, lo, hi);
    if (!known(st->crm_at, t)) contact_update(g, r, li, st, t);
    t += gen_delay(r, 10 * CLK_MINUTE, 6 * CLK_HOUR);
    meeting(g, r, li, st, t, 1);
    const Lead *L = &g->leads[li];
    uint32_t product = L->interest == INT_COCREATION ? 4 : gen_below(r, 4);
    uint32_t value = (8 + gen_below(r, 240)) * 1000 * 100;           /* cents */
    if (g->cos[L->company].size == 2) value *= 2;
    t = gen_time(g, r, t + 20 * CLK_HOUR, t + 6 * CLK_DAY);
    if (!ev_add(g, li, E_DEAL_CREATED, t, ID_DEAL, gen_chance(r, 0.75) ? value : 0, product)) return;
    st->count++;
    for (uint32_t s = 1; s <= 6; s++) {
        if (s == 2 && gen_chance(r, 0.2)) continue;                      /* discovery skipped */
        t = gen_time(g, r, t + 16 * CLK_HOUR, t + 3 * CLK_DAY);
        int lost = s < 6 && gen_chance(r, 0.12);
        uint32_t stage = lost ? 7 : s, v = 0;
        if (s == 3 || (s == 6 && gen_chance(r, 0.5))) {
            value = value / 100 * (80 + gen_below(r, 41));               /* a proposal moves the price */
            v = value;
        }
        if (!ev_add(g, li, E_DEAL_STAGE_CHANGED, t, ID_DEAL, stage, v)) return;
        st->count++;
        if (lost) return;
    }
    t = gen_time(g, r, t + 2 * CLK_DAY, t + 8 * CLK_DAY);                /* the customer pays the offer */
    if (ev_add(g, li, E_PAYMENT_RECEIVED, t, ID_DEAL | ID_OFFER, value, 0)) st->count++;
}

#define SESSION_EVENTS 2.3       /* events per session on average, measured */

static int gen_cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

static int gen_lead_events(Gen *g, uint32_t li, int64_t *times, uint32_t cap)
{
    const Lead *L = &g->leads[li];
    Rng r;
    gen_rng_seed(&r, g->o.seed, 0x200000000ULL + li);
    double s = (double)L->quota / SESSION_EVENTS;
    uint32_t k = (uint32_t)s + (gen_unit(&r) < s - (double)(uint32_t)s);
    if (k < 1) k = 1;
    if (k > cap) k = cap;

    int64_t span = g->end - g->start, lo = g->start;
    if (L->arc != ARC_EMAIL) lo += gen_delay(&r, 0, span * 6 / 10);      /* appears later in the span */
    for (uint32_t i = 0; i < k; i++) times[i] = gen_time(g, &r, lo, g->end);
    qsort(times, k, sizeof *times, gen_cmp_i64);

    LeadState st = { NEVER, NEVER, NEVER, NEVER, NEVER, 0, 0, 0, 0 };
    uint32_t reveal = k;                                    /* session index; k: never */
    if (L->arc == ARC_EMAIL) st.email_at = g->start;
    else if (gen_chance(&r, 0.8)) reveal = k == 1 ? (gen_chance(&r, 0.35) ? 0 : 1) : (uint32_t)((double)k * (0.15 + 0.5 * gen_unit(&r)));

    for (uint32_t i = 0; i < k; i++) {
        int64_t t = times[i];
        if (i < reveal && L->arc == ARC_PORTAL) {
            web_visit(g, &r, li, &st, t, ID_PORTAL, ID_PORTAL);
        } else if (i < reveal && L->arc == ARC_LINKEDIN) {
            if (i == 0) {
                if (ev_add(g, li, E_LINKEDIN_CONNECT, t, ID_LINKEDIN, gen_below(&r, NELEM(li_campaigns) + 1), 0)) st.count++;
            } else if (gen_chance(&r, 0.5)) {
                li_reply(g, &r, li, &st, t, ID_LINKEDIN);
            } else {
                web_visit(g, &r, li, &st, t, ID_PORTAL, ID_PORTAL);
            }
        } else if (i == reveal && L->arc == ARC_PORTAL) {
            /* the event that proves the visitor is the person with this email */
            int64_t end = web_visit(g, &r, li, &st, t, ID_PORTAL, ID_PORTAL);
            end += gen_delay(&r, 20 * CLK_SECOND, 4 * CLK_MINUTE);
            unsigned both = ID_PORTAL | ID_EMAIL;
            uint32_t how = gen_below(&r, 10);
            if (how < 4) {
                st.signed_up = 1;
                if (ev_add(g, li, E_PORTAL_SIGNUP, end, both, gen_below(&r, NELEM(plans) + 1), 0)) st.count++;
            } else if (how < 7) {
                if (ev_add(g, li, E_PAPER_DOWNLOAD, end, both, gen_below(&r, NELEM(papers)), 0)) st.count++;
            } else {
                form_submit(g, &r, li, end, both, &st, 1);
            }
            st.email_at = st.portal_at = end;
        } else if (i == reveal && L->arc == ARC_LINKEDIN) {
            /* the LinkedIn tool learns the email with a reply */
            li_reply(g, &r, li, &st, t, ID_LINKEDIN | ID_EMAIL);
            st.email_at = st.li_at = t;
        } else {
            if (t < st.email_at) t = st.email_at + gen_delay(&r, CLK_MINUTE, 2 * CLK_HOUR);
            known_session(g, &r, li, &st, t);
        }
        if (g->oom) return 0;
    }
    if (st.email_at != NEVER) {
        double p = 0.04 + 0.5 * L->w / g->wmax;     /* the most active leads: about one in two */
        if (L->interest == INT_RESEARCH) p *= 0.5;
        if (gen_chance(&r, p)) deal(g, &r, li, &st);
    }
    return !g->oom;
}

/* ---- writing JSON ------------------------------------------------------------- */

typedef struct Buf { char *p; size_t n, cap; int oom; } Buf;

static void b_grow(Buf *b, size_t need)
{
    if (b->n + need <= b->cap) return;
    size_t nc = b->cap ? b->cap : 1 << 16;
    while (nc < b->n + need) nc *= 2;
    char *np = realloc(b->p, nc);
    if (!np) { b->oom = 1; return; }
    b->p = np;
    b->cap = nc;
}

static void b_raw(Buf *b, const char *s, size_t n)
{
    b_grow(b, n);
    if (b->oom) return;
    memcpy(b->p + b->n, s, n);
    b->n += n;
}

#define B_LIT(b, s) b_raw(b, s, sizeof(s) - 1)

static void b_ch(Buf *b, char c) { b_raw(b, &c, 1); }

/* a JSON string: quotes, backslash and control characters escaped; the
 * input is UTF-8 and passes through */
static void b_str(Buf *b, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    b_ch(b, '"');
    for (const char *p = s; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if (c == '"' || c == '\\') { char e[2] = { '\\', (char)c }; b_raw(b, e, 2); }
        else if (c == '\n') B_LIT(b, "\\n");
        else if (c == '\t') B_LIT(b, "\\t");
        else if (c < 0x20) { char e[6] = { '\\', 'u', '0', '0', hex[c >> 4], hex[c & 15] }; b_raw(b, e, 6); }
        else b_ch(b, (char)c);
    }
    b_ch(b, '"');
}

static void b_u64(Buf *b, uint64_t v)
{
    char tmp[24];
    int n = 0;
    do { tmp[n++] = (char)('0' + v % 10); v /= 10; } while (v);
    b_grow(b, (size_t)n);
    if (b->oom) return;
    while (n) b->p[b->n++] = tmp[--n];
}

static void b_dec(Buf *b, uint32_t cents)       /* 12345 -> 123.45 */
{
    b_u64(b, cents / 100);
    char f[3] = { '.', (char)('0' + cents / 10 % 10), (char)('0' + cents % 10) };
    b_raw(b, f, 3);
}

static void b_time(Buf *b, int64_t ms)          /* "2026-10-01T08:00:00Z" (whole seconds) */
{
    int64_t s = ms / 1000, days = s / 86400, rem = s % 86400, y;
    if (rem < 0) { rem += 86400; days--; }
    unsigned mo, d;
    clk_civil_from_days(days, &y, &mo, &d);
    unsigned h = (unsigned)(rem / 3600), mi = (unsigned)(rem / 60 % 60), se = (unsigned)(rem % 60);
    char t[22] = "\"0000-00-00T00:00:00Z\"";
    t[1] = (char)('0' + y / 1000 % 10); t[2] = (char)('0' + y / 100 % 10);
    t[3] = (char)('0' + y / 10 % 10); t[4] = (char)('0' + y % 10);
    t[6] = (char)('0' + mo / 10); t[7] = (char)('0' + mo % 10);
    t[9] = (char)('0' + d / 10); t[10] = (char)('0' + d % 10);
    t[12] = (char)('0' + h / 10); t[13] = (char)('0' + h % 10);
    t[15] = (char)('0' + mi / 10); t[16] = (char)('0' + mi % 10);
    t[18] = (char)('0' + se / 10); t[19] = (char)('0' + se % 10);
    b_raw(b, t, 22);
}

static void b_hex8(Buf *b, uint32_t v)
{
    static const char hex[] = "0123456789abcdef";
    char t[8];
    for (int i = 7; i >= 0; i--, v >>= 4) t[i] = hex[v & 15];
    b_raw(b, t, 8);
}

/* "key": with a comma before all but the first */
static void b_key(Buf *b, int *first, const char *k)
{
    if (!*first) b_ch(b, ',');
    *first = 0;
    b_str(b, k);
    b_ch(b, ':');
}

static void b_kstr(Buf *b, int *first, const char *k, const char *v) { b_key(b, first, k); b_str(b, v); }

/* ids derived from the lead number: bijections, so they are unique */
static void b_idstr(Buf *b, const char *prefix, uint32_t li, uint32_t key)
{
    b_ch(b, '"');
    b_raw(b, prefix, strlen(prefix));
    b_hex8(b, gen_perm32(li, key));
    b_ch(b, '"');
}

static void b_subject(Gen *g, Buf *b, const Ev *e)
{
    const Lead *L = &g->leads[e->lead];
    int first = 1;
    b_ch(b, '{');
    if (e->ids & (ID_DEAL | ID_OFFER)) {
        b_kstr(b, &first, "entity", "deal");
        if (e->ids & ID_DEAL) { b_key(b, &first, "crm_deal_id"); b_idstr(b, "D-", e->lead, (uint32_t)g->o.seed ^ 0xDEA1u); }
        if (e->ids & ID_OFFER) { b_key(b, &first, "offer_id"); b_idstr(b, "AN-", e->lead, (uint32_t)g->o.seed ^ 0x0FFEu); }
    } else {
        b_kstr(b, &first, "entity", "lead");
        if (e->ids & ID_EMAIL) b_kstr(b, &first, "email", L->email);
        if (e->ids & ID_PORTAL) { b_key(b, &first, "portal_id"); b_idstr(b, "p-", e->lead, (uint32_t)g->o.seed); }
        if (e->ids & ID_LINKEDIN) {
            b_key(b, &first, "linkedin_url");
            B_LIT(b, "\"https://www.linkedin.com/in/");
            b_raw(b, first_names[L->first].ascii, strlen(first_names[L->first].ascii));
            b_ch(b, '-');
            b_raw(b, last_names[L->last].ascii, strlen(last_names[L->last].ascii));
            b_ch(b, '-');
            b_hex8(b, gen_perm32(e->lead, (uint32_t)g->o.seed ^ 0x11u));
            b_ch(b, '"');
        }
        if (e->ids & ID_CRM) { b_key(b, &first, "crm_id"); b_idstr(b, "003", e->lead, (uint32_t)g->o.seed ^ 0xC0Cu); }
    }
    b_ch(b, '}');
}

static const char *pick_s(const char *const *list, uint32_t n, uint64_t h) { return list[h % n]; }
#define PICK(list, h) pick_s(list, NELEM(list), h)

static void b_data(Gen *g, Buf *b, const Ev *e)
{
    const Lead *L = &g->leads[e->lead];
    const Company *co = &g->cos[L->company];
    uint64_t h = gen_hash(g->o.seed, e->gen);
    int first = 1;
    b_ch(b, '{');
    switch ((EvType)e->type) {
    case E_PAGE_VISIT: {
        b_key(b, &first, "url");
        b_ch(b, '"');
        b_raw(b, url_paths[e->a], strlen(url_paths[e->a]));
        const char *slug = NULL;
        switch ((Url)e->a) {
        case U_BLOG: slug = PICK(slugs_blog, h); break;
        case U_PUB: slug = PICK(slugs_pub, h); break;
        case U_METHODS: slug = PICK(slugs_methods, h); break;
        case U_SERVICES: slug = PICK(slugs_services, h); break;
        case U_COMPARE: slug = PICK(slugs_compare, h); break;
        case U_CASES: slug = PICK(slugs_cases, h); break;
        default: break;
        }
        if (slug) b_raw(b, slug, strlen(slug));
        b_ch(b, '"');
        if (e->b & 4) b_kstr(b, &first, "title", url_titles[e->a]);
        if (e->b & 2) b_kstr(b, &first, "referrer", PICK(referrers, h >> 8));
        if (e->b & 1) {
            b_kstr(b, &first, "utm_source", PICK(utm_sources, h >> 16));
            if ((h >> 24) % 4) b_kstr(b, &first, "utm_campaign", PICK(campaign_names, h >> 28));
        }
        break;
    }
    case E_PORTAL_SIGNUP:
        if (e->a) b_kstr(b, &first, "plan", plans[e->a - 1]);
        break;
    case E_PAPER_DOWNLOAD:
        b_kstr(b, &first, "paper", papers[e->a][0]);
        if (papers[e->a][1]) b_kstr(b, &first, "topic", papers[e->a][1]);
        break;
    case E_TRIAL_STARTED:
        b_kstr(b, &first, "product", products[e->a]);
        break;
    case E_DEMO_REQUEST:
        if (e->a) b_kstr(b, &first, "product", products[e->a - 1]);
        if (e->b) b_kstr(b, &first, "message", messages[e->b - 1]);
        break;
    case E_FORM_SUBMIT:
        b_kstr(b, &first, "form", forms[e->a]);
        if (e->b & 1) b_kstr(b, &first, "company", co->name);
        if (e->b & 2) {
            char ph[40];
            snprintf(ph, sizeof ph, "%s %u %u", countries[co->country].phone, 20 + (unsigned)(h % 80),
                     1000000 + (unsigned)(h >> 8) % 9000000);
            b_kstr(b, &first, "phone", ph);
        }
        if (e->b & 4) b_kstr(b, &first, "message", messages[e->b >> 3]);
        break;
    case E_WEBINAR_REGISTERED:
    case E_WEBINAR_ATTENDED:
        b_kstr(b, &first, "webinar", webinar_names[e->a]);
        if (e->type == E_WEBINAR_ATTENDED && e->b) { b_key(b, &first, "minutes"); b_u64(b, e->b); }
        break;
    case E_EMAIL_SENT: case E_EMAIL_OPEN: case E_EMAIL_CLICK: case E_EMAIL_REPLY: case E_EMAIL_BOUNCE:
        b_kstr(b, &first, "campaign", campaign_names[e->a % NELEM(campaign_names)]);
        if (e->type == E_EMAIL_CLICK) b_kstr(b, &first, "link", links[e->b]);
        if (e->type == E_EMAIL_BOUNCE) { b_key(b, &first, "hard"); if (e->b) B_LIT(b, "true"); else B_LIT(b, "false"); }
        break;
    case E_UNSUBSCRIBE:
        if (e->a) b_kstr(b, &first, "campaign", campaign_names[(e->a - 1) % NELEM(campaign_names)]);
        break;
    case E_LINKEDIN_CONNECT:
    case E_LINKEDIN_REPLY:
        if (e->a) b_kstr(b, &first, "campaign", li_campaigns[e->a - 1]);
        if (e->b) b_kstr(b, &first, "message", li_replies[e->b - 1]);
        break;
    case E_JOB_CHANGE:
        b_kstr(b, &first, "company", g->cos[e->a].name);
        if (e->b) b_kstr(b, &first, "title", titles[(e->b - 1) / 4][(e->b - 1) % 4]);
        break;
    case E_CONTACT_UPDATED:
        if (e->b & 1) b_kstr(b, &first, "first_name", first_names[L->first].show);
        if (e->b & 2) b_kstr(b, &first, "last_name", last_names[L->last].show);
        if (e->b & 4) b_kstr(b, &first, "title", titles[L->seniority][e->a]);
        if (e->b & 8) b_kstr(b, &first, "seniority", e->b & 128 ? PICK(odd_seniorities, h) : seniorities[L->seniority]);
        if (e->b & (16 | 32)) {
            char ph[40];
            snprintf(ph, sizeof ph, "%s %u %u", countries[co->country].phone, 20 + (unsigned)(e->lead % 80),
                     1000000 + gen_perm32(e->lead, 7) % 9000000);
            if (e->b & 16) b_kstr(b, &first, "phone", ph);
            snprintf(ph + strlen(ph), sizeof ph - strlen(ph), "-%u", 10 + e->lead % 90);
            if (e->b & 32) b_kstr(b, &first, "direct_phone", ph);
        }
        if (e->b & 64) b_kstr(b, &first, "region", region_names[countries[co->country].region]);
        break;
    case E_MEETING_SCHEDULED:
        b_key(b, &first, "starts_at");
        b_time(b, e->t + (int64_t)e->a * CLK_MINUTE);
        if (e->b) b_kstr(b, &first, "kind", meeting_kinds[e->b - 1]);
        break;
    case E_DEAL_CREATED: {
        char name[128];
        snprintf(name, sizeof name, "%s \xe2\x80\x93 %s", co->name, deal_products[e->b]);
        b_kstr(b, &first, "name", name);
        b_kstr(b, &first, "contact", L->email);
        if (e->a) { b_key(b, &first, "value"); b_dec(b, e->a); }
        break;
    }
    case E_DEAL_STAGE_CHANGED:
        b_kstr(b, &first, "stage", stages[e->a]);
        if (e->b) { b_key(b, &first, "value"); b_dec(b, e->b); }
        break;
    case E_COMPANY_NEWS:
        b_kstr(b, &first, "kind", news_kinds[e->a]);
        if (e->b < 2) b_kstr(b, &first, "detail", news_details[e->a][e->b]);
        break;
    case E_INTENT_DATA:
        b_kstr(b, &first, "provider", providers[e->a]);
        b_kstr(b, &first, "topic", topics[e->b]);
        break;
    case E_PAYMENT_RECEIVED:
        b_key(b, &first, "payment_id");
        b_idstr(b, "PAY-", e->lead, (uint32_t)g->o.seed ^ 0xFA1u);
        b_key(b, &first, "amount");
        b_dec(b, e->a);
        b_kstr(b, &first, "currency", countries[co->country].currency);
        break;
    case E__COUNT:
        break;
    }
    b_ch(b, '}');
}

static void b_id(Gen *g, Buf *b, const char *mid, uint32_t n)
{
    B_LIT(b, "\"evt_");
    b_u64(b, g->o.seed);
    b_ch(b, '_');
    b_raw(b, mid, strlen(mid));
    b_u64(b, n);
    b_ch(b, '"');
}

static void b_event(Gen *g, Buf *b, const Ev *e)
{
    B_LIT(b, "{\"id\":");
    b_id(g, b, "", e->n);
    B_LIT(b, ",\"type\":");
    b_str(b, type_names[e->type]);
    B_LIT(b, ",\"source\":");
    b_str(b, type_sources[e->type]);
    B_LIT(b, ",\"occurred_at\":");
    b_time(b, e->t);
    B_LIT(b, ",\"subject\":");
    b_subject(g, b, e);
    B_LIT(b, ",\"data\":");
    b_data(g, b, e);
    B_LIT(b, "}\n");
}

/* ---- bad lines --------------------------------------------------------------------- */

#define BAD_KINDS(X) \
    X(BAD_MALFORMED, "malformed JSON") \
    X(BAD_UNKNOWN_TYPE, "unknown type") \
    X(BAD_MISSING_TYPE, "missing type") \
    X(BAD_FIELD_TYPE, "wrong field type") \
    X(BAD_TIMESTAMP, "bad timestamp") \
    X(BAD_DUPLICATE, "duplicate id") \
    X(BAD_ENTITY, "undeclared entity")
#define X_ENUM(e, s) e,
enum { BAD_KINDS(X_ENUM) BAD__COUNT };
#undef X_ENUM
#define X_NAME(e, s) s,
static const char *const bad_names[] = { BAD_KINDS(X_NAME) };
#undef X_NAME

/* One bad line, placed before the good event `e`; `prev` is the last good
 * line written (for duplicates), `line` the text of `e`. */
static void b_bad(Gen *g, Buf *b, Rng *r, uint32_t kind, uint32_t n, const Ev *e, const char *line, size_t len,
                  const char *prev, size_t prevlen)
{
    static const char *const unknown_types[] = { "page_vist", "email_opened", "signup", "deal_updated", "PageVisit" };
    static const char *const bad_times[] = { "2026-10-32T09:00:00Z", "01.10.2026 09:00", "2026-10-01 09:00:00",
                                             "yesterday", "", "2026-10-01T25:61:00Z" };
    static const char *const entities[] = { "account", "contact", "person", "Lead" };
    switch (kind) {
    case BAD_MALFORMED: {               /* the line cut off: an object never closed */
        size_t cut = len / 3 + gen_below(r, (uint32_t)(len / 3));
        b_raw(b, line, cut);
        b_ch(b, '\n');
        return;
    }
    case BAD_DUPLICATE:                 /* a retry: the same line again */
        if (prev) { b_raw(b, prev, prevlen); return; }
        break;
    default: break;
    }
    B_LIT(b, "{\"id\":");
    b_id(g, b, "x", n);
    if (kind != BAD_MISSING_TYPE) {
        B_LIT(b, ",\"type\":");
        b_str(b, kind == BAD_UNKNOWN_TYPE ? PICK(unknown_types, gen_next(r)) : kind == BAD_FIELD_TYPE ? "page_visit" : type_names[e->type]);
    }
    B_LIT(b, ",\"source\":");
    b_str(b, kind == BAD_FIELD_TYPE ? "portal" : type_sources[e->type]);
    B_LIT(b, ",\"occurred_at\":");
    if (kind == BAD_TIMESTAMP) {
        if (gen_chance(r, 0.2)) b_u64(b, (uint64_t)(e->t / 1000));     /* epoch seconds */
        else b_str(b, PICK(bad_times, gen_next(r)));
    } else {
        b_time(b, e->t);
    }
    B_LIT(b, ",\"subject\":");
    if (kind == BAD_ENTITY) {
        B_LIT(b, "{\"entity\":");
        b_str(b, PICK(entities, gen_next(r)));
        B_LIT(b, ",\"email\":");
        b_str(b, g->leads[e->lead].email);
        b_ch(b, '}');
    } else if (kind == BAD_FIELD_TYPE) {
        B_LIT(b, "{\"entity\":\"lead\",\"email\":");
        b_str(b, g->leads[e->lead].email);
        b_ch(b, '}');
    } else {
        b_subject(g, b, e);
    }
    B_LIT(b, ",\"data\":");
    if (kind == BAD_FIELD_TYPE) {
        static const char *const wrong[] = { "{\"url\":42}", "{\"url\":\"/pricing\",\"title\":true}",
                                             "{\"url\":[\"/\"]}", "{\"url\":\"/\",\"utm_source\":{\"a\":1}}",
                                             "{\"url\":null}" };
        const char *w = PICK(wrong, gen_next(r));
        b_raw(b, w, strlen(w));
    } else {
        b_data(g, b, e);
    }
    B_LIT(b, "}\n");
}

/* ---- main ------------------------------------------------------------------------------ */

static int cmp_ev_time(const void *pa, const void *pb)
{
    const Ev *a = pa, *b = pb;
    if (a->t != b->t) return a->t < b->t ? -1 : 1;
    return a->gen < b->gen ? -1 : a->gen > b->gen;
}

static int cmp_ev_key(const void *pa, const void *pb)
{
    const Ev *a = pa, *b = pb;
    if (a->key != b->key) return a->key < b->key ? -1 : 1;
    return a->n < b->n ? -1 : a->n > b->n;
}

static void usage(FILE *f)
{
    fputs("usage: gen_events [--leads N] [--days D] [--start TIME] [--seed S] [--events N]\n"
          "                  [--late P] [--bad P] [-o FILE] [--quiet]\n"
          "\n"
          "Writes a month of events for the shipped rules (rules/schema.dna) as JSONL,\n"
          "one canonical envelope per line, in occurred_at order.  The same arguments\n"
          "give the same bytes.\n"
          "\n"
          "  --leads N    leads (default 300)\n"
          "  --days D     length of the span in days (default 30)\n"
          "  --start TIME first instant, RFC 3339 (default 2026-10-01T00:00:00Z)\n"
          "  --seed S     random seed, an unsigned integer (default 1); ids are evt_<S>_<n>\n"
          "  --events N   about N events in all (default 0.4 per lead and day)\n"
          "  --late P     a fraction P of the events arrive late: their line comes after\n"
          "               lines with a later occurred_at (default 0)\n"
          "  --bad P      insert a bad line before a fraction P of the events: malformed\n"
          "               JSON, unknown or missing type, wrong field type, bad timestamp,\n"
          "               duplicate id, undeclared entity (default 0)\n"
          "  -o FILE      write to FILE (default standard output)\n"
          "  --quiet      no summary on standard error\n", f);
}

static int parse_u64(const char *s, uint64_t *out, uint64_t max)
{
    char *end;
    errno = 0;
    if (!s || !*s || *s == '-') return 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end || v > max) return 0;
    *out = v;
    return 1;
}

static int parse_p(const char *s, double *out)
{
    char *end;
    if (!s || !*s) return 0;
    double v = strtod(s, &end);
    if (*end || !(v >= 0 && v < 1)) return 0;
    *out = v;
    return 1;
}

static int parse_args(int argc, char **argv, Opts *o)
{
    *o = (Opts){ .leads = 300, .days = 30, .seed = 1 };
    clk_parse("2026-10-01T00:00:00Z", 20, &o->start);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        uint64_t u;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) { usage(stdout); exit(0); }
        else if (!strcmp(a, "--quiet")) { o->quiet = 1; continue; }
        else if (!strcmp(a, "--leads") && parse_u64(v, &u, 10000000) && u) o->leads = (uint32_t)u;
        else if (!strcmp(a, "--days") && parse_u64(v, &u, 3660) && u) o->days = (uint32_t)u;
        else if (!strcmp(a, "--seed") && parse_u64(v, &u, UINT64_MAX)) o->seed = u;
        else if (!strcmp(a, "--events") && parse_u64(v, &u, 200000000)) o->events = u;
        else if (!strcmp(a, "--start") && v && clk_parse(v, strlen(v), &o->start) == 0) {}
        else if (!strcmp(a, "--late") && parse_p(v, &o->late)) {}
        else if (!strcmp(a, "--bad") && parse_p(v, &o->bad)) {}
        else if (!strcmp(a, "-o") && v) o->out = v;
        else {
            if (v && a[0] == '-')
                fprintf(stderr, "gen_events: bad option or value: %s %s (see --help)\n", a, v);
            else
                fprintf(stderr, "gen_events: bad argument: %s (see --help)\n", a);
            return 0;
        }
        i++;
    }
    o->start -= o->start % CLK_SECOND;
    return 1;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void gen_free(Gen *g)
{
    free(g->days);
    free(g->campaigns);
    free(g->webinars);
    free(g->cos);
    free(g->leads);
    free(g->ev);
}

int main(int argc, char **argv)
{
    Gen g = { 0 };
    if (!parse_args(argc, argv, &g.o)) return 2;
    double t0 = now_s();
    g.start = g.o.start;
    g.end = g.start + (int64_t)g.o.days * CLK_DAY;
    g.zone = clk_zone("Europe/Berlin");
    if (!g.zone) {
        fprintf(stderr, "gen_events: cannot load the time zone Europe/Berlin (tzdata; TZDIR)\n");
        return 2;
    }
    if (!gen_world(&g) || !gen_leads(&g)) {
        fprintf(stderr, "gen_events: out of memory\n");
        gen_free(&g);
        return 2;
    }
    uint32_t cap = 0;
    for (uint32_t i = 0; i < g.o.leads; i++) {
        uint32_t k = (uint32_t)((double)g.leads[i].quota / SESSION_EVENTS) + 2;
        if (k > cap) cap = k;
    }
    int64_t *times = calloc(cap, sizeof *times);
    for (uint32_t i = 0; times && i < g.o.leads; i++)
        if (!gen_lead_events(&g, i, times, cap)) break;
    free(times);
    if (!times || g.oom) {
        fprintf(stderr, "gen_events: out of memory\n");
        gen_free(&g);
        return 2;
    }

    /* occurred_at order numbers the events; late ones then move back */
    qsort(g.ev, g.nev, sizeof *g.ev, cmp_ev_time);
    Rng late, bad;
    gen_rng_seed(&late, g.o.seed, 3);
    gen_rng_seed(&bad, g.o.seed, 4);
    for (uint32_t i = 0; i < g.nev; i++) {
        g.ev[i].n = i + 1;
        g.ev[i].key = g.ev[i].t;
        if (g.o.late > 0 && gen_chance(&late, g.o.late))
            g.ev[i].key += gen_delay(&late, 10 * CLK_MINUTE, 12 * CLK_HOUR);
    }
    if (g.o.late > 0) qsort(g.ev, g.nev, sizeof *g.ev, cmp_ev_key);

    FILE *out = stdout;
    if (g.o.out && !(out = fopen(g.o.out, "wb"))) {
        fprintf(stderr, "gen_events: cannot write %s: %s\n", g.o.out, strerror(errno));
        gen_free(&g);
        return 2;
    }
    Buf b = { 0 }, line = { 0 }, prev = { 0 };
    uint32_t nbad = 0, nlate = 0, bad_by[BAD__COUNT] = { 0 }, by_type[E__COUNT] = { 0 };
    int64_t last = INT64_MIN;
    uint64_t bytes = 0;
    for (uint32_t i = 0; i < g.nev; i++) {
        const Ev *e = &g.ev[i];
        line.n = 0;
        b_event(&g, &line, e);
        if (g.o.bad > 0 && gen_chance(&bad, g.o.bad)) {
            uint32_t kind = gen_below(&bad, BAD__COUNT);
            if (kind == BAD_DUPLICATE && !prev.n) kind = BAD_MALFORMED;
            b_bad(&g, &b, &bad, kind, ++nbad, e, line.p, line.n, prev.n ? prev.p : NULL, prev.n);
            bad_by[kind]++;
        }
        b_raw(&b, line.p, line.n);
        Buf t = prev; prev = line; line = t;
        by_type[e->type]++;
        if (e->t < last) nlate++;                /* earlier than the line before */
        last = e->t;
        if (b.n >= (1 << 20) || i + 1 == g.nev) {
            if (b.oom || line.oom || prev.oom) break;
            if (fwrite(b.p, 1, b.n, out) != b.n) break;
            bytes += b.n;
            b.n = 0;
        }
    }
    int failed = b.oom || line.oom || prev.oom || b.n || ferror(out);
    if (out != stdout) failed |= fclose(out) != 0;
    else failed |= fflush(out) != 0;
    free(b.p);
    free(line.p);
    free(prev.p);
    if (failed) {
        fprintf(stderr, "gen_events: write failed%s%s\n", g.o.out ? ": " : "", g.o.out ? g.o.out : "");
        gen_free(&g);
        return 2;
    }
    if (!g.o.quiet) {
        char from[32], to[32];
        clk_format(g.start, from);
        clk_format(g.end, to);
        fprintf(stderr, "gen_events: %u events, %u leads, %s .. %s, seed %llu; %u late, %u bad lines; "
                        "%llu bytes; %.2f s\n",
                g.nev, g.o.leads, from, to, (unsigned long long)g.o.seed, nlate, nbad,
                (unsigned long long)bytes, now_s() - t0);
        fprintf(stderr, "  by type:");
        for (uint32_t i = 0; i < E__COUNT; i++)
            if (by_type[i]) fprintf(stderr, " %s %u", type_names[i], by_type[i]);
        fputc('\n', stderr);
        if (nbad) {
            fprintf(stderr, "  bad lines:");
            for (uint32_t i = 0; i < BAD__COUNT; i++) fprintf(stderr, " %s %u;", bad_names[i], bad_by[i]);
            fputc('\n', stderr);
        }
    }
    gen_free(&g);
    return 0;
}
