// What the widget says to visitors, in plain everyday words. The language is
// picked from the browser (navigator.languages); English is the fallback.

const en = {
  defaultTitle: "Chat with us",
  defaultGreeting: "Hi! How can we help?",
  openChat: "Open chat",
  minimize: "Close chat",
  startTitle: "Start a chat",
  nameLabel: "Your name",
  emailLabel: "Your email",
  optional: "optional",
  required: "needed",
  start: "Start chat",
  composer: "Write a message",
  composerHint: "Press Enter to send, Shift+Enter for a new line.",
  send: "Send",
  sending: "Sending…",
  sent: "Sent",
  delivered: "Delivered",
  seen: "Seen",
  notSent: "Not sent.",
  tryAgain: "Try again",
  you: "You",
  typing: "{name} is typing…",
  someone: "Someone",
  agentJoined: "You're chatting with {name}",
  waiting: "We'll answer you here soon.",
  connecting: "Connecting…",
  reconnecting: "Connection lost. Trying again…",
  offlineNet: "You're offline. Your messages will be sent when you're back online.",
  closed: "This chat has ended.",
  newChat: "Start a new chat",
  awayTitle: "We're away right now.",
  awayHours: "We're here: {hours}",
  awayEmail: "Leave your email and we'll write back to you.",
  saveEmail: "Save",
  emailSaved: "Thanks! We'll write to {email}.",
  badEmail: "That email doesn't look right.",
  fillIn: "Please fill in your name and email.",
  error: "Something went wrong. Please try again.",
  messages: "Messages",
  today: "Today",
  yesterday: "Yesterday",
  agent: "Support",
  days: "Mon,Tue,Wed,Thu,Fri,Sat,Sun",
};

export type Strings = typeof en;

const fr: Strings = {
  defaultTitle: "Discutons",
  defaultGreeting: "Bonjour ! Comment pouvons-nous vous aider ?",
  openChat: "Ouvrir le chat",
  minimize: "Fermer le chat",
  startTitle: "Commencer une discussion",
  nameLabel: "Votre nom",
  emailLabel: "Votre e-mail",
  optional: "facultatif",
  required: "obligatoire",
  start: "Commencer",
  composer: "Écrire un message",
  composerHint: "Entrée pour envoyer, Maj+Entrée pour aller à la ligne.",
  send: "Envoyer",
  sending: "Envoi…",
  sent: "Envoyé",
  delivered: "Reçu",
  seen: "Lu",
  notSent: "Pas envoyé.",
  tryAgain: "Réessayer",
  you: "Vous",
  typing: "{name} écrit…",
  someone: "Quelqu'un",
  agentJoined: "Vous parlez avec {name}",
  waiting: "Nous allons vous répondre ici très vite.",
  connecting: "Connexion…",
  reconnecting: "Connexion perdue. Nouvel essai…",
  offlineNet: "Vous n'êtes pas connecté. Vos messages partiront dès le retour de la connexion.",
  closed: "Cette discussion est terminée.",
  newChat: "Nouvelle discussion",
  awayTitle: "Nous ne sommes pas là pour le moment.",
  awayHours: "Nous sommes là : {hours}",
  awayEmail: "Laissez votre e-mail et nous vous répondrons.",
  saveEmail: "Envoyer",
  emailSaved: "Merci ! Nous vous écrirons à {email}.",
  badEmail: "Cet e-mail ne semble pas correct.",
  fillIn: "Merci d'indiquer votre nom et votre e-mail.",
  error: "Un problème est survenu. Merci de réessayer.",
  messages: "Messages",
  today: "Aujourd'hui",
  yesterday: "Hier",
  agent: "Support",
  days: "lun.,mar.,mer.,jeu.,ven.,sam.,dim.",
};

const all: Record<string, Strings> = { en, fr };

export function pickLanguage(langs: readonly string[]): string {
  for (const l of langs) {
    const base = l.toLowerCase().split("-")[0];
    if (all[base]) return base;
  }
  return "en";
}

export function strings(lang: string): Strings {
  return all[lang] ?? en;
}

/** Fills {name} placeholders. */
export function fill(s: string, vars: Record<string, string>): string {
  return s.replace(/\{(\w+)\}/g, (_, k) => vars[k] ?? "");
}
