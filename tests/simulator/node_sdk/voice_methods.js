// Drives the official africastalking Node.js SDK's voice methods against the simulator.
// Usage: node voice_methods.js '<json settings>'; prints one JSON document with what each
// method resolved or rejected with. Only the SDK's voice URL is changed: its own code does
// everything else (validation, headers, body encoding).
'use strict'

const settings = JSON.parse(process.argv[2])
const AfricasTalking = require('africastalking')
const common = require('africastalking/lib/common')
const ActionBuilder = require('africastalking/lib/actionbuilder')

const at = AfricasTalking({ username: settings.username, apiKey: settings.apiKey })
// Set after initialising: a 'sandbox' username makes the SDK rewrite its URLs.
common.VOICE_URL = settings.voiceUrl

async function outcome (promise) {
  try {
    return { resolved: await promise }
  } catch (error) {
    if (error && error.response) {
      return { rejected: { status: error.response.status, data: error.response.data } }
    }
    return { rejected: { message: String(error && error.message ? error.message : error) } }
  }
}

function actionXml () {
  return new ActionBuilder()
    .say('Welcome to Acme.', { voice: 'woman' })
    .getDigits({ say: { text: 'Press 1 for sales.' } }, {
      numDigits: 1, timeout: 10, finishOnKey: '#', callbackUrl: settings.menuUrl
    })
    .dial(settings.agent, { record: true, sequential: true, maxDuration: 300 })
    .record({ say: { text: 'Leave a message.' } }, { maxLength: 30, playBeep: true })
    .redirect(settings.menuUrl)
    .build()
}

async function main () {
  const result = {
    call: await outcome(at.VOICE.call({ callFrom: settings.from, callTo: settings.to })),
    callWithClientRequestId: await outcome(at.VOICE.call({
      callFrom: settings.from, callTo: settings.to.join(','), clientRequestId: 'order-42'
    })),
    getNumQueuedCalls: await outcome(at.VOICE.getNumQueuedCalls({ phoneNumbers: settings.from })),
    uploadMediaFile: await outcome(at.VOICE.uploadMediaFile({
      phoneNumber: settings.from, url: 'https://media.example.com/welcome.wav'
    })),
    actionXml: actionXml()
  }
  process.stdout.write(JSON.stringify(result))
}

main()
