// subsonic-client.mjs: drives the server's OpenSubsonic API with subsonic-api from npm (a client
// nobody on the project wrote), for crates/lan/tests/it/subsonic.rs. Usage:
//   node tests/browser/subsonic-client.mjs URL USER PASSWORD [API_KEY]
// Prints one JSON object of what it saw (browsing by folder and by tags, a search, a stream's
// sha256, cover art's first bytes, a playlist round trip, a wrong password's error).
import { createHash } from 'node:crypto';
import { SubsonicAPI } from 'subsonic-api';

const [url, username, password, apiKey] = process.argv.slice(2);
const api = new SubsonicAPI({ url, auth: { username, password } });
const seen = {};
seen.ping = (await api.ping()).status;
const folders = (await api.getMusicFolders()).musicFolders.musicFolder;
seen.folders = folders.map((f) => f.name);
const indexes = (await api.getIndexes()).indexes.index;
seen.index = indexes.flatMap((i) => i.artist.map((a) => a.name));
const rock = indexes.flatMap((i) => i.artist).find((a) => a.name === 'Rock');
seen.rock = (await api.getMusicDirectory({ id: rock.id })).directory.child.map((c) => c.title);
const artists = (await api.getArtists()).artists.index.flatMap((i) => i.artist);
seen.artists = artists.map((a) => a.name);
const beatles = (await api.getArtist({ id: artists.find((a) => a.name === 'The Beatles').id })).artist;
const album = (await api.getAlbum({ id: beatles.album[0].id })).album;
seen.album = { name: album.name, songs: album.song.map((s) => s.title) };
const found = (await api.search3({ query: 'together' })).searchResult3;
seen.search = (found.song ?? []).map((s) => s.title);
const song = album.song[0];
const stream = await api.stream({ id: song.id });
seen.stream_status = stream.status;
seen.stream_sha256 = createHash('sha256').update(Buffer.from(await stream.arrayBuffer())).digest('hex');
seen.stream_path = song.path;
const playlist = (await api.createPlaylist({ name: 'From node', songId: song.id })).playlist;
seen.playlist = { name: playlist.name, songCount: playlist.songCount };
await api.deletePlaylist({ id: playlist.id });
seen.playlists_after = ((await api.getPlaylists()).playlists.playlist ?? []).length;
const wrong = new SubsonicAPI({ url, auth: { username, password: 'wrong' } });
const refused = await wrong.ping();
seen.wrong = { status: refused.status, code: refused.error?.code };
if (apiKey) seen.api_key_ping = (await new SubsonicAPI({ url, auth: { apiKey } }).ping()).status;
console.log(JSON.stringify(seen));
