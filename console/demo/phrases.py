"""Word and phrase pools for the demo data: the fictional brand Fibrelle and its customers.

Fibrelle is an invented French fibre/mobile operator (box, 5G plans, a TV app, an online shop);
Orbicom, NéoLigne and Telivo are its invented competitors. Keeping everything in one fictional
world lets trainers show realistic cases without naming a real company or a real person.

Phrases carry `{slot}` markers that `generator._fill` replaces (order numbers, cities, delays...).
Nothing here is random: the generator owns the `random.Random`, so the data stays deterministic.
"""

from __future__ import annotations

from typing import Final

BRAND: Final = "Fibrelle"
COMPETITORS: Final = ("Orbicom", "NéoLigne", "Telivo")
CRISIS_HASHTAG: Final = "#PanneFibrelle"

# How customers address the brand on each channel (the care account's handle there).
BRAND_HANDLES: Final = {
    "x": "@Fibrelle",
    "mastodon": "@fibrelle@mastodon.social",
    "bluesky": "@fibrelle.fr",
}

# Agents of the demo team: assignee / reply_author logins, and how they sign replies.
AGENTS: Final = ("camille", "yanis", "ines", "hugo", "maelle")
AGENT_SIGNATURES: Final = {
    "camille": "^Camille",
    "yanis": "^Yanis",
    "ines": "^Inès",
    "hugo": "^Hugo",
    "maelle": "^Maëlle",
}

# fmt: off
FIRST_NAMES_FR: Final = (
    "Marie", "Lucas", "Léa", "Hugo", "Chloé", "Nathan", "Manon", "Théo", "Camille", "Louis",
    "Inès", "Jules", "Zoé", "Gabriel", "Océane", "Raphaël", "Anaïs", "Mathéo", "Élodie", "Noé",
    "Sébastien", "Hélène", "François", "Aurélie", "Jérôme", "Céline", "Benoît", "Maëlys",
    "Amélie", "Loïc", "Gaëlle", "Yasmine", "Karim", "Fatou", "Mehdi", "Nadia", "Thibault",
    "Solène", "Grégoire", "Agnès", "Rémi", "Margaux", "Adèle", "Timothée", "Bérénice",
)
FIRST_NAMES_EN: Final = (
    "James", "Emily", "Oliver", "Sophie", "Harry", "Grace", "Jack", "Chloe", "Thomas", "Lily",
    "Daniel", "Hannah", "Samuel", "Amelia", "Ethan", "Isla", "Ryan", "Megan", "Aisha", "Priya",
    "Connor", "Niamh", "Liam", "Ava", "Noah", "Olivia", "Mason", "Ella", "Zainab", "Owen",
)
LAST_NAMES: Final = (
    "Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Leroy",
    "Moreau", "Simon", "Laurent", "Lefèvre", "Michel", "Garcia", "David", "Bertrand", "Roux",
    "Vincent", "Fournier", "Morel", "Girard", "André", "Mercier", "Dupont", "Lambert", "Bonnet",
    "François", "Martinez", "Legrand", "Garnier", "Faure", "Rousseau", "Blanc", "Guérin",
    "Muller", "Henry", "Roussel", "Nicolas", "Perrin", "Mathieu", "Clément", "Gauthier",
    "Nguyen", "Benali", "Diallo", "Kowalski", "Smith", "Jones", "Taylor", "Brown", "Wilson",
    "Evans", "Walker", "O'Brien", "Patel", "Hughes", "Ó Súilleabháin", "Lefebvre", "Chevalier",
)

MASTODON_INSTANCES: Final = (
    "mastodon.social", "piaille.fr", "mamot.fr", "framapiaf.org", "mastodon.online",
    "eldritch.cafe", "toot.portes-imaginaire.org", "mstdn.social",
)

CITIES_FR: Final = (
    "Paris 11e", "Marseille", "Toulouse", "Nantes", "Strasbourg", "Montpellier", "Bordeaux",
    "Lille", "Rennes", "Reims", "Le Havre", "Dijon", "Angers", "Brest", "Nîmes", "Limoges",
    "Clermont-Ferrand", "Besançon", "Perpignan", "Orléans",
)
# The crisis is a regional outage: every burst post comes from around Lyon.
CRISIS_CITIES: Final = (
    "Lyon 3e", "Lyon 7e", "Villeurbanne", "Vénissieux", "Caluire", "Bron", "Vaulx-en-Velin",
    "Oullins", "Écully", "Saint-Priest", "Grenoble", "Vienne",
)

PRODUCTS_FR: Final = (
    "ma box", "la Box Fibrelle Pulse", "mon forfait 5G", "la carte SIM", "le décodeur TV",
    "le répéteur Wi-Fi", "mon abonnement", "l'appli Fibrelle", "Fibrelle TV",
)
PRODUCTS_EN: Final = (
    "my router", "the Fibrelle Pulse box", "my 5G plan", "the SIM card", "the TV box",
    "the Wi-Fi extender", "my subscription", "the Fibrelle app", "Fibrelle TV",
)

# fmt: on

EMOJI_ANGRY: Final = ("😡", "🤬", "😤", "🙄", "👎", "💢", "😠", "")
EMOJI_SAD: Final = ("😕", "😞", "😩", "🥲", "😬", "", "")
EMOJI_HAPPY: Final = ("😍", "🙏", "👏", "❤️", "🥳", "✨", "👍", "💚", "😊")

# --- customer posts by topic -------------------------------------------------------------------
# Topics double as the tags agents put on handled mentions (history rows carry them).

TOPICS: Final = ("refund", "delivery", "outage", "app", "billing", "mobile", "move", "question")

POSTS: Final[dict[tuple[str, str], tuple[str, ...]]] = {
    ("refund", "fr"): (
        "{brand} j'attends toujours mon remboursement pour la commande {order}, ça fait {days} "
        "jours {angry}",
        "Bonjour {brand}, on m'a promis un remboursement de {amount} € il y a {days} jours. "
        "Rien sur mon compte. C'est normal ?",
        "{brand} remboursement de ma box renvoyée le {date}, toujours rien. Commande {order} {sad}",
        "Deuxième relance : où en est le remboursement de {order} ? {brand}",
        "Prélevé deux fois ce mois-ci, j'aimerais être remboursé svp {brand} {angry}",
        "{brand} vous m'avez facturé des frais de résiliation alors que j'étais dans les "
        "délais. Je veux le remboursement des {amount} €.",
        "Le conseiller au 3900 m'a dit remboursement sous 5 jours. C'était il y a {days} jours. "
        "{brand} ?",
    ),
    ("refund", "en"): (
        "{brand} still waiting for my refund on order {order}, it's been {days} days {angry}",
        "Hi {brand}, I was promised a £{amount} refund {days} days ago and nothing has arrived.",
        "Returned the router on {date}, no refund yet. Order {order}. {brand} {sad}",
        "{brand} charged twice this month. Refund please?",
        "Second time asking: where is my refund for {order}? {brand}",
    ),
    ("delivery", "fr"): (
        "{brand} ma commande {order} devait arriver le {date}, toujours rien {sad}",
        "Colis {order} bloqué « en cours d'acheminement » depuis {days} jours {brand}",
        "{brand} le livreur dit m'avoir livré à {city} mais je n'ai rien reçu. Commande {order}.",
        "Bonjour {brand}, la carte SIM commandée le {date} n'est jamais arrivée {angry}",
        "{brand} le technicien devait passer entre 8h et 12h. Il est {hour}h. Personne. "
        "J'ai posé ma journée {angry}",
        "Rdv d'installation fibre annulé pour la 3e fois {brand}, c'est une blague ?",
    ),
    ("delivery", "en"): (
        "{brand} my order {order} was due on {date}, still nothing {sad}",
        "Parcel {order} stuck 'in transit' for {days} days. {brand} any update?",
        "{brand} engineer was supposed to come between 8 and 12. It's {hour}:00. No one. "
        "Took a day off for this {angry}",
        "Tracking says delivered, it wasn't. Order {order}. {brand}",
    ),
    ("outage", "fr"): (
        "{brand} plus d'internet depuis ce matin à {city} {angry}",
        "La box clignote rouge depuis {hours}h, redémarrée 4 fois, rien {brand}",
        "{brand} coupure fibre à {city}, c'est général ou juste chez moi ?",
        "Le débit est tombé à 2 Mb/s le soir depuis une semaine {brand} {sad}",
        "Télétravail impossible, la connexion saute toutes les 10 min {brand} {angry}",
        "{brand} Fibrelle TV coupe en plein match, encore 🙄",
    ),
    ("outage", "en"): (
        "{brand} no internet since this morning {angry}",
        "Router blinking red for {hours}h, rebooted 4 times, nothing {brand}",
        "{brand} is there an outage in {city} or is it just me?",
        "Speed drops to 2 Mbps every evening this week {brand} {sad}",
    ),
    ("app", "fr"): (
        "{brand} l'appli plante dès que j'ouvre l'onglet Factures (version {version}, Android) "
        "{angry}",
        "Impossible de me connecter à l'appli {brand}, « erreur 502 » en boucle",
        "{brand} depuis la mise à jour {version} l'appli me déconnecte toutes les 5 minutes",
        "Le bouton « Payer » de l'appli ne fait rien sur iPhone {brand} {sad}",
        "{brand} l'appli affiche la conso de quelqu'un d'autre ?! Capture en DM si besoin",
        "Code de vérification SMS jamais reçu, bloquée hors de mon espace client {brand}",
    ),
    ("app", "en"): (
        "{brand} app crashes every time I open Bills (v{version}, Android) {angry}",
        "Can't log in to the {brand} app, 'error 502' over and over",
        "Since update {version} the app logs me out every 5 minutes {brand}",
        "{brand} the Pay button does nothing on iOS {sad}",
    ),
    ("billing", "fr"): (
        "{brand} pourquoi ma facture est passée de 29,99 € à {amount} € sans prévenir ?",
        "Option « Fibrelle TV+ » facturée alors que je ne l'ai jamais demandée {brand} {angry}",
        "{brand} je n'arrive pas à télécharger ma facture de {month}",
        "Hausse de prix de 3 € « pour améliorer le service ». Le service est en panne une fois "
        "par semaine {brand} 🙄",
    ),
    ("billing", "en"): (
        "{brand} why did my bill go from £29.99 to £{amount} without notice?",
        "Being charged for TV+ which I never ordered {brand} {angry}",
        "{brand} can't download my {month} invoice",
    ),
    ("mobile", "fr"): (
        "{brand} aucun réseau 5G à {city} alors que la carte dit « couverture excellente »",
        "La portabilité de mon numéro depuis {competitor} traîne depuis {days} jours {brand}",
        "{brand} plus de data alors qu'il me reste 80 Go ?",
        "eSIM impossible à activer, le QR code est refusé {brand} {sad}",
    ),
    ("mobile", "en"): (
        "{brand} zero 5G in {city} even though the map says excellent coverage",
        "Number transfer from {competitor} has been pending for {days} days {brand}",
        "{brand} eSIM won't activate, QR code rejected {sad}",
    ),
    ("move", "fr"): (
        "{brand} je déménage à {city} le {date}, comment je transfère ma box ?",
        "Déménagement déclaré il y a {days} jours, toujours pas de date d'installation {brand}",
    ),
    ("move", "en"): (
        "{brand} moving to {city} on {date}, how do I transfer my broadband?",
        "Reported my move {days} days ago, still no install date {brand}",
    ),
    ("question", "fr"): (
        "{brand} est-ce que la Box Pulse est compatible Wi-Fi 7 ?",
        "Bonjour {brand}, comment on change le mot de passe Wi-Fi depuis l'appli ?",
        "{brand} vous avez une offre pour les étudiants ?",
        "C'est possible de garder mon numéro fixe si je passe chez vous ? {brand}",
        "{brand} je pars chez {competitor} si vous ne faites pas mieux que {amount} €/mois 😉",
    ),
    ("question", "en"): (
        "{brand} does the Pulse box support Wi-Fi 7?",
        "Hi {brand}, how do I change the Wi-Fi password in the app?",
        "{brand} any student deal?",
        "{brand} {competitor} offers me £{amount}/month, can you match it?",
    ),
}

# Follow-ups from the customer after an agent reply (closing a past conversation).
FOLLOW_UPS: Final[dict[str, tuple[str, ...]]] = {
    "fr": (
        "Merci, c'est réglé 👍",
        "Super, reçu ce matin. Merci !",
        "Ok merci pour la réponse rapide",
        "Toujours rien de mon côté… je vous envoie un DM",
        "C'est bon ça remarche, merci {happy}",
        "Parfait, merci beaucoup !",
    ),
    "en": (
        "Thanks, sorted 👍",
        "Got it this morning, thank you!",
        "Ok thanks for the quick answer",
        "Still nothing on my side… sending a DM",
        "All working again, cheers {happy}",
    ),
}

# Customers coming back on an old thread: an active follow-up with history behind it.
RETURNS: Final[dict[str, tuple[str, ...]]] = {
    "fr": (
        "Je reviens vers vous : toujours pas de solution depuis mon dernier message {angry}",
        "Ça recommence, même problème que le mois dernier {sad}",
        "On m'avait dit que c'était réglé… ce n'est pas le cas.",
    ),
    "en": (
        "Coming back to this: still not fixed since my last message {angry}",
        "Same problem as last month, again {sad}",
    ),
}

# Replies agents sent in the past (history rows), per topic, so history reads coherently.
REPLIES: Final[dict[tuple[str, str], tuple[str, ...]]] = {
    ("refund", "fr"): (
        "Bonjour {first}, le remboursement a bien été validé, comptez 3 à 5 jours ouvrés. {sig}",
        "Bonjour {first}, désolés pour l'attente : je relance le service facturation et je vous "
        "confirme en DM. {sig}",
    ),
    ("refund", "en"): (
        "Hi {first}, your refund has been approved, allow 3-5 working days. {sig}",
        "Hi {first}, sorry for the wait, I've chased billing and will confirm by DM. {sig}",
    ),
    ("delivery", "fr"): (
        "Bonjour {first}, le transporteur a égaré le colis : un renvoi part aujourd'hui. {sig}",
        "Bonjour {first}, un nouveau rendez-vous technicien est fixé demain 8h-12h. {sig}",
    ),
    ("delivery", "en"): (
        "Hi {first}, the courier lost the parcel, a replacement ships today. {sig}",
        "Hi {first}, a new engineer visit is booked for tomorrow 8-12. {sig}",
    ),
    ("outage", "fr"): (
        "Bonjour {first}, un incident était en cours dans votre secteur, il est résolu depuis "
        "{hour}h. Pouvez-vous redémarrer la box ? {sig}",
        "Merci {first} pour votre patience. Un technicien passera demain matin. {sig}",
    ),
    ("outage", "en"): (
        "Hi {first}, there was an incident in your area, fixed since {hour}:00. Could you "
        "restart the router? {sig}",
        "Thanks for your patience {first}. An engineer will visit tomorrow morning. {sig}",
    ),
    ("app", "fr"): (
        "Bonjour {first}, la mise à jour corrigeant ce bug est en ligne, merci du signalement ! "
        "{sig}",
        "Bonjour {first}, pouvez-vous vider le cache de l'appli et réessayer ? Ça corrige le "
        "souci en attendant le correctif. {sig}",
    ),
    ("app", "en"): (
        "Hi {first}, the update fixing this bug is live, thanks for reporting it! {sig}",
        "Hi {first}, could you clear the app cache and retry? That works around it until the "
        "fix ships. {sig}",
    ),
    ("delight", "fr"): ("Merci {first}, ça fait plaisir à toute l'équipe 💚 {sig}",),
    ("delight", "en"): ("Thank you {first}, the whole team loved reading this 💚 {sig}",),
    ("", "fr"): (
        "Bonjour {first}, désolés pour l'attente. Je regarde votre dossier et je reviens vers "
        "vous en DM. {sig}",
        "Bonjour {first}, pouvez-vous nous écrire en message privé avec votre numéro client ? "
        "{sig}",
    ),
    ("", "en"): (
        "Hi {first}, sorry for the wait. Looking into your account now, I'll DM you. {sig}",
        "Hi {first}, could you DM us your account number? {sig}",
    ),
}

# Names of throwaway accounts (spam, trolls): they should look like what they are.
# fmt: off
SPAM_NAMES: Final = (
    "CryptoKing 💰", "Promo Deals 🔥", "Jessica ❤️ DM me", "Bitcoin Signals", "Fibrelle Support",
    "Gift Center", "NFT Drops 🚀", "Mega Cadeaux",
)
TROLL_NAMES: Final = (
    "Gérard le vrai", "anon84", "LeRâleur", "truthseeker_99", "Kevin 🤡", "xXDarkVadorXx",
)
# fmt: on

# --- the brewing crisis: a regional fibre outage, all with the shared hashtag ------------------
CRISIS_POSTS: Final[dict[str, tuple[str, ...]]] = {
    "fr": (
        "{tag} plus rien depuis {hours}h à {city}, et aucune info sur le site {angry}",
        "{brand} {tag} toute la rue est coupée à {city}. Vous comptez communiquer quand ?",
        "Ça fait {hours}h que la fibre est morte à {city} {tag} {angry}",
        "{tag} le 3900 sature, l'appli dit « aucun incident ». Sérieusement {brand} ? {angry}",
        "Télétravail à l'eau, visio coupée en pleine réunion {tag} {brand} {angry}",
        "{brand} mes parents âgés n'ont plus de téléphone fixe à {city} {tag} c'est grave !!",
        "Je paie 45 €/mois pour ça ? {tag} {city} {angry}",
        "{tag} {brand} on veut un geste commercial, pas des excuses {angry}",
        "{tag} commerces à {city} sans terminal CB depuis ce matin. Merci {brand} 👏👏 (non)",
        "Chez {competitor} au moins ils préviennent. {tag}",
        "Toujours en panne. TOUJOURS. {tag} {brand}",
        "{tag} {city} : box rouge, 4G saturée, on fait comment ? {angry}",
    ),
    "en": (
        "{tag} nothing since {hours}h in {city} and not a word on the status page {angry}",
        "{brand} {tag} whole street down in {city}. When will you say something?",
        "{tag} helpline is jammed and the app says 'no incident'. Seriously {brand}? {angry}",
        "Working from home impossible, dropped out of a client call {tag} {angry}",
        "{tag} {brand} we want compensation, not apologies {angry}",
        "Still down. STILL. {tag} {brand}",
    ),
}

# --- happy customers worth a surprise (tag "delight") -----------------------------------------
DELIGHT_POSTS: Final[dict[str, tuple[str, ...]]] = {
    "fr": (
        "Un grand merci à {agent_name} de {brand} qui a réglé mon souci en 10 minutes {happy}",
        "{brand} technicien au top ce matin, ponctuel et super sympa {happy}",
        "5 ans chez {brand} et toujours aucun regret. Le débit est incroyable {happy}",
        "Quitté {competitor} pour {brand} : meilleure décision de l'année {happy}",
        "{brand} vous avez sauvé mon mariage : le Wi-Fi a tenu pour 120 invités 🥳",
        "Merci {brand} pour le geste commercial, je ne m'y attendais pas {happy}",
    ),
    "en": (
        "Huge thanks to {agent_name} at {brand}, sorted my issue in 10 minutes {happy}",
        "{brand} engineer this morning was brilliant, on time and so friendly {happy}",
        "Switched from {competitor} to {brand}, best decision this year {happy}",
        "{brand} my nan finally video-calls us every Sunday thanks to your team {happy}",
    ),
}

# --- spam: link-only and crypto (tag "spam") ---------------------------------------------------
SPAM_POSTS: Final = (
    "https://bit.ly/3xFr33G1ft",
    "{brand} 🚀🚀 Turn $500 into $25,000 in 7 days with $MOONCOIN!! DM me 💰 https://moon-coin.example/pump",
    "Gagnez un iPhone 16 ! Cliquez vite 👉 https://fibrelle-cadeau.example/win?id={order}",
    "{brand} 🔥 Crypto signals 98% accuracy, join t.me/cryptosignalz_vip 🔥",
    "https://tinyurl.example/xy7Qz https://tinyurl.example/xy7Qz",
    "Support {brand} : votre compte sera suspendu, vérifiez ici https://fibrelle-secure.example/login",
    "💎 Bitcoin doubler – send 0.1 BTC receive 0.2 BTC – https://btc2x.example 💎",
    "Follow back? 🙏 #followforfollow #f4f",
)

# --- trolls: insults and repeated text (tag "troll") -------------------------------------------
TROLL_POSTS: Final = (
    "{brand} bande de nuls",
    "{brand} NULS NULS NULS NULS NULS NULS NULS NULS",
    "{brand} vous êtes la pire boîte de France, fermez",
    "{brand} lol clowns 🤡🤡🤡🤡🤡🤡",
    "{brand} trash company trash service trash company trash service trash company",
    "{brand} lol clowns 🤡🤡🤡🤡🤡🤡",
    "{brand} réveillez-vous les incompétents !!!!!!!!!!!!!!!!",
)

# --- hostile strings (TRAINER DEMO: rendering safety) ------------------------------------------
# These posts are deliberately nasty for a terminal UI: Rich/Textual markup that must show as
# text (not turn bold, not bind a click to app.quit), an ANSI "clear screen" escape (ESC[2J) that
# must never reach the terminal raw, a right-to-left override, zero-width characters and a very
# long unbreakable word. Trainers use them to show that outside text is always rendered inert.
HOSTILE_POSTS: Final = (
    # Rich markup: must appear literally, "not bold" must not be bold.
    ("fr", "{brand} test [bold]not bold[/] ça s'affiche comment chez vous ?"),
    # Textual action link: clicking must not quit the app.
    ("en", "{brand} click here for a free month [@click=app.quit]claim[/] 🎁"),
    # ANSI escape: ESC[2J would clear the screen, ESC[31m would turn it red.
    ("en", "{brand} my router log says \x1b[2J\x1b[31mERROR 0xDEAD\x1b[0m what does it mean?"),
    # Bidi override (U+202E) and zero-width joiners/spaces inside words.
    ("fr", "{brand} facture n° \u202e0202-BF\u202c incorrecte, mon\u200bta\u200bnt faux"),
    # A 300-character unbreakable word: wrapping and truncation.
    ("fr", "{brand} " + "A" * 150 + "h" * 150),
)
# A display name that is itself markup (author names are outside text too).
HOSTILE_AUTHOR_NAME: Final = "[blink]Service Client Officiel[/blink] ✔"

# --- listening: posts *about* the brand and its competitors, not addressed to the care account --
# Nobody tagged @Fibrelle here, so these never reach the queue by themselves: they are what the
# listening view finds with watch terms (brand name, competitors, the crisis hashtag). {name} is
# the brand's plain name, {competitor} one of COMPETITORS.
LISTENING_POSTS: Final[dict[str, tuple[str, ...]]] = {
    "fr": (
        "Quelqu'un a testé la fibre {name} à {city} ? J'hésite avec {competitor}",
        "Je quitte {competitor} pour {name} le mois prochain, les tarifs sont imbattables",
        "{competitor} vient de doubler le prix de ma box, je regarde du côté de {name}",
        "Technicien {name} passé ce matin, installation nickel en 40 minutes",
        "Chez {competitor} l'appli plante encore, trois jours sans accès à mon compte",
        "Vous êtes chez qui pour la fibre ? {name} ou {competitor} ? Avis bienvenus",
        "Les bureaux à {city} en rade {tag}, vivement que ça revienne",
        "Mon voisin chez {competitor} a encore internet, nous chez {name} plus rien {tag}",
        "Offre {competitor} à 19,99 € : quelqu'un sait si c'est sans engagement ?",
        "Le service client {name} m'a rappelé en 5 minutes, franchement bluffant",
    ),
    "en": (
        "Anyone tried {name} fibre in {city}? Torn between them and {competitor}",
        "Switched from {competitor} to {name} last week, speed tests are wild",
        "{competitor} support kept me on hold for an hour again",
        "Is {name} down for everyone or just me? {tag}",
        "{competitor} just announced a price rise, time to shop around",
        "Our office runs on {name} and it has been rock solid all year",
    ),
}
