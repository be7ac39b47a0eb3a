package httpserver

// noStore is the Cache-Control of every response that did not choose its
// own policy: API responses carry personal data (ASVS 5.0 V14.3.2).
const noStore = "no-store"
